import { constants } from 'node:os';
import { safeText } from '../../report/terminal.js';
import type { Command } from 'commander';
import { examples } from '../help.js';
import { ERROR_PREFIX, EXIT, UsageError } from '../errors.js';
import { collect, CollectIncompleteError, type CollectResult, type Progress, type Volume } from '../../response/collect.js';
import { QUERIES } from '../../response/collect-commands.js';

interface CollectCliOptions {
  case: string;
  exchangePath?: string;
  host?: string;
  maxBytes?: string;
  replace?: boolean;
}

/** `20G`, `500M`, `4096` → bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(s.trim());
  if (!m) throw new UsageError(`not a size: ${s} (e.g. 20G, 500M)`);
  const unit = { '': 0, K: 1, M: 2, G: 3, T: 4 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(m[1]) * 1024 ** unit);
}

/**
 * SOURCE is `X=PATH` (drive X of the server is readable at PATH), or on Windows a drive root such as `C:\`.
 * A single plain PATH is taken as drive C.
 */
export function parseVolumes(sources: string[], platform: NodeJS.Platform): Volume[] {
  const vols = sources.map((s, i): Volume => {
    const named = /^([A-Za-z])=(.+)$/.exec(s);
    if (named) return { drive: named[1].toUpperCase(), root: named[2] };
    const drive = platform === 'win32' ? /^([A-Za-z]):[\\/]?$/.exec(s) : null;
    if (drive) return { drive: drive[1].toUpperCase(), root: `${drive[1].toUpperCase()}:\\` };
    if (sources.length > 1) throw new UsageError(`name the drive of source ${i + 1}: e.g. E=${s}`);
    return { drive: 'C', root: s };
  });
  const letters = vols.map((v) => v.drive);
  if (new Set(letters).size !== letters.length) throw new UsageError('each drive letter may be given once');
  return vols;
}

function progressLine(p: Progress): void {
  const mb = (p.bytes / 1024 / 1024).toFixed(1);
  const current = safeText(p.current); // a file name from the evidence: no terminal escapes
  const name = current.length > 70 ? `…${current.slice(-69)}` : current;
  process.stderr.write(`\r\x1b[K${p.files} files, ${mb} MiB  ${name}`);
}

export function registerCollect(program: Command): void {
  program
    .command('collect')
    .addHelpText('after', examples([
      'exhunt collect C:\\ --case E:\\cases\\mail01.zip',
      'exhunt collect C=/mnt/mail01-c D=/mnt/mail01-d --case /cases/mail01 --host MAIL01',
      'exhunt collect C:\\ --case E:\\cases\\mail01 --exchange-path D:\\Exchange\\ --max-bytes 20G',
    ]))
    .description('copy Exchange evidence (logs, event logs, web folders, IIS config) read-only into a hashed case folder or zip')
    .argument('<SOURCE...>', 'drive root of the server (C:\\ when live), or X=PATH for a mounted image of drive X')
    .requiredOption('--case <DIR|FILE.zip>', 'new case folder, or a .zip file')
    .option('--exchange-path <PATH>', 'Exchange install folder if not Program Files\\Microsoft\\Exchange Server\\V15 (e.g. E:\\Exchange\\)')
    .option('--host <NAME>', "the server's name (recorded in the manifest; known automatically only when live)")
    .option('--max-bytes <SIZE>', 'stop copying once this much is collected (e.g. 20G); the rest is listed as not collected')
    .option('--replace', 'collect again into a case an interrupted or failed collect left incomplete (a finished case is never replaced)')
    .action(async (sources: string[], opts: CollectCliOptions) => {
      const volumes = parseVolumes(sources, process.platform);
      const live = process.platform === 'win32' && volumes.every((v) => /^[A-Z]:\\$/.test(v.root));
      const tty = process.stderr.isTTY === true;
      // Ctrl-C / SIGTERM stop the copy between two chunks; the case stays marked incomplete. A second one kills.
      const stop = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => stop.abort(sig);
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      let res: CollectResult;
      try {
        res = await collect({
          volumes,
          out: opts.case,
          exchangePath: opts.exchangePath,
          host: opts.host ?? null,
          live,
          maxBytes: opts.maxBytes ? parseSize(opts.maxBytes) : null,
          commandLine: process.argv.map((a) => JSON.stringify(a)).join(' '),
          onProgress: tty ? progressLine : undefined,
          replace: opts.replace === true,
          signal: stop.signal,
        });
      } catch (err) {
        if (!(err instanceof CollectIncompleteError)) throw new UsageError((err as Error).message);
        if (tty) process.stderr.write('\r\x1b[K');
        process.stderr.write(`${ERROR_PREFIX} collect ${err.message}\n`);
        process.exitCode = err.interrupted ? 128 + (constants.signals[stop.signal.reason as NodeJS.Signals] ?? constants.signals.SIGINT) : EXIT.INCOMPLETE;
        return;
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      if (tty) process.stderr.write('\r\x1b[K');
      const m = res.manifest;
      const partial = m.files.filter((f) => f.errors.length > 0).length;
      const saved = m.files.filter((f) => f.kind === 'command').length;
      const missing = m.errors.filter((e) => QUERIES.some((q) => q.original === e.original)).length;
      const notGathered = live ? 'see manifest.json "errors"' : 'only live on the Windows server: run collector/Collect-ExchangeEvidence.ps1 there';
      process.stdout.write(
        `${m.files.length} files (${res.bytes} bytes) collected into ${res.out}\n` +
          `Exchange: ${m.server.exchange_path ?? 'not found'}; ExSetup.exe ${m.server.exsetup_version ?? 'version unknown'}\n` +
          `Configuration (Exchange cmdlets, registry): ${saved} saved under commands/${missing ? `, ${missing} not gathered (${notGathered})` : ''}\n` +
          `${m.errors.length} not collected, ${partial} partial: see manifest.json "errors"\n` +
          `Seal: ${res.seal}\n` +
          'Record the seal outside the case (ticket, case notes): `exhunt verify CASE --expect SEAL` then proves the case is unchanged.\n',
      );
    });
}
