import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SEVERITY_RANK, type ScanReport } from '../../model.js';
import { DEFAULT_SINCE, scan, type Progress } from '../../engine/scan.js';
import { isoTime } from '../../parsers/csv.js';
import { writeCsv } from '../../report/csv.js';
import { renderJson } from '../../report/json.js';
import { renderTerminal } from '../../report/terminal.js';
import { fleetTable } from '../../report/fleet.js';
import { renderHtml } from '../../report/html.js';
import { renderNdjson } from '../../report/ndjson.js';
import { EXIT, UsageError } from '../errors.js';
import { IocFileError, useIocFiles } from '../../rules/iocs.js';
import { yaraEngine } from '../../rules/files/yara.js';

interface ScanFlags {
  json?: string;
  csv?: string;
  html?: string;
  ndjson?: string;
  hostsFrom?: string;
  since: string;
  jobs?: string;
  color: boolean;
  quiet?: boolean;
  ioc: string[];
  yara?: string;
}

function parseSince(value: string): string {
  const t = isoTime(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!t) throw new UsageError(`--since: not a date: ${value} (use YYYY-MM-DD)`);
  return t;
}

/** Each subfolder or `.zip` of DIR is one host, in sorted (byte) order; hidden entries are left out. */
async function hostsFrom(dir: string): Promise<string[]> {
  if (!existsSync(dir)) throw new UsageError(`--hosts-from: no such folder: ${dir}`);
  const entries = await readdir(dir, { withFileTypes: true });
  const hosts = entries
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isFile() && /\.zip$/i.test(e.name))))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(dir, name));
  if (!hosts.length) throw new UsageError(`--hosts-from: no host folders or .zip files in ${dir}`);
  return hosts;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function fmtBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** A one-line progress display on stderr, only when stderr is a terminal. */
function progressPrinter(): ((p: Progress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200 && p.filesDone !== p.filesTotal) return;
    last = now;
    const line = `scanning ${p.host} (${p.hostIndex + 1}/${p.hosts}): ${p.filesDone}/${p.filesTotal} files, ${fmtBytes(p.bytesDone)}/${fmtBytes(p.bytesTotal)}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
  };
}

/** Reads --ioc files and compiles --yara rules once, so a bad file is one clear message, not one per file. */
async function checkIocAndYara(flags: ScanFlags): Promise<void> {
  try {
    for (const note of useIocFiles(flags.ioc)) process.stderr.write(`exhunt: --ioc: ${note}\n`);
  } catch (err) {
    if (err instanceof IocFileError) throw new UsageError(`--ioc: ${err.message}`);
    throw err;
  }
  if (flags.yara) {
    const engine = await yaraEngine(flags.yara);
    if ('error' in engine) throw new UsageError(`--yara: ${engine.error}`);
  }
}

/** Exit 1 when anything worth a look was found (informational findings alone do not count). */
function exitCodeFor(report: ScanReport): number {
  return report.hosts.some((h) => h.findings.some((f) => SEVERITY_RANK[f.severity] > SEVERITY_RANK.info)) ? EXIT.FINDINGS : EXIT.CLEAN;
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('hunt for exploitation in evidence copied from Exchange servers; each PATH is one host')
    .argument('[PATH...]', 'evidence folder, single file or triage zip (one host each)')
    .option('--json <FILE>', 'write the full report as JSON (schema exhunt.scan/1); - for stdout')
    .option('--csv <DIR>', "write Test-ProxyLogon-style CSV/log files per host and exhunt-findings.csv into DIR")
    .option('--html <FILE>', 'write a self-contained HTML report (opens offline in any browser)')
    .option('--ndjson <FILE>', 'write one finding per line in the Elastic Common Schema (Elasticsearch, OpenSearch, Splunk)')
    .option('--hosts-from <DIR>', 'also scan each subfolder or .zip of DIR as one host (sorted by name)')
    .option('--since <DATE>', 'start of the exposure window the logs must cover', DEFAULT_SINCE.slice(0, 10))
    .option('-j, --jobs <N>', 'worker threads (default: one per core)')
    .option('--ioc <FILE>', 'extra IOC file (CSV or STIX 2.1 bundle); repeatable', collect, [])
    .option('--yara <RULES>', 'also run these YARA rules over swept files')
    .option('--no-color', 'no colour in the terminal summary')
    .option('-q, --quiet', 'no terminal summary')
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing found, 1 findings (anything above info), 2 usage or input error.\nEvidence is only read, never written.',
    )
    .action(async (args: string[], flags: ScanFlags, cmd: Command) => {
      const paths = [...args, ...(flags.hostsFrom ? await hostsFrom(flags.hostsFrom) : [])];
      if (!paths.length) throw new UsageError('scan: give at least one PATH, or --hosts-from DIR');
      const missing = paths.filter((p) => !existsSync(p));
      if (missing.length) throw new UsageError(`no such file or folder: ${missing.join(', ')}`);
      const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs: not a positive whole number: ${flags.jobs}`);
      for (const f of [...flags.ioc, ...(flags.yara ? [flags.yara] : [])]) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
      await checkIocAndYara(flags);
      const onProgress = flags.quiet ? undefined : progressPrinter();
      const report = await scan({
        paths,
        jobs,
        options: { since: parseSince(flags.since), iocFiles: flags.ioc, yaraRules: flags.yara ?? null },
        onProgress,
        command: ['exhunt', ...cmd.parent!.args],
      });
      if (onProgress) process.stderr.write('\r\x1b[K');
      if (flags.json === '-') process.stdout.write(renderJson(report));
      else if (flags.json) await writeFile(flags.json, renderJson(report), 'utf8');
      if (flags.csv) await writeCsv(report, flags.csv);
      if (flags.html) await writeFile(flags.html, renderHtml(report), 'utf8');
      if (flags.ndjson) await writeFile(flags.ndjson, renderNdjson(report), 'utf8');
      if (!flags.quiet && flags.json !== '-') {
        const color = flags.color && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        process.stdout.write(renderTerminal(report, { color }));
        if (report.hosts.length > 1) process.stdout.write(`\n${fleetTable(report, { color })}`);
      }
      process.exitCode = exitCodeFor(report);
    });
}
