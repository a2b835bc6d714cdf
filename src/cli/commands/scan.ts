import { existsSync, realpathSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_SINCE, scanEach, type Progress } from '../../engine/scan.js';
import { DEFAULT_FILE_SECONDS } from '../../engine/budget.js';
import { isoTime } from '../../parsers/csv.js';
import { zoneToUtc } from '../../parsers/evtx/csv-time.js';
import { renderTerminal, safeText } from '../../report/terminal.js';
import { fleetTableOf } from '../../report/fleet.js';
import type { HostDigest } from '../../report/summary.js';
import { ReportStream } from '../../report/stream.js';
import { ERROR_PREFIX, EXIT, UsageError } from '../errors.js';
import { STDOUT, claimStdout } from '../output.js';
import { IocFileError } from '../../rules/iocs.js';
import { loadIocs } from '../../engine/registry.js';
import { readRuleFiles, RuleFileError } from '../../evidence/rule-files.js';
import { yaraEngine } from '../../engine/yara.js';
import { findLocalEvidence, type LocalEvidence } from '../../evidence/local.js';
import type { Started } from './index.js';
import { alsoFolder, type HostFolder } from '../../evidence/discover.js';
import { byteSize } from '../../semantics.js';

interface ScanFlags {
  json?: string;
  csv?: string;
  csvBom?: boolean;
  html?: string;
  ndjson?: string;
  ndjsonHosts?: boolean;
  timesketch?: string;
  stix?: string;
  hostsFrom?: string;
  since: string;
  until?: string;
  jobs?: string;
  color: boolean;
  quiet?: boolean;
  ioc: string[];
  yara?: string;
  local?: boolean;
  also: string[];
  rules: string[];
  fileTimeLimit?: string;
  eventCsvTz?: string;
  eventCsvDates?: string;
  iisTz?: string;
}

/** A --*-tz value checked: a zone Node knows or a fixed offset. */
function zoneFlag(flag: string, value: string): string {
  if (zoneToUtc(value) === null) {
    throw new UsageError(`${flag}: not a time zone: ${JSON.stringify(value)} (use an IANA name such as Europe/Berlin or America/New_York, which follows summer time, or a fixed offset such as +01:00 or UTC)`);
  }
  return value.trim();
}

/** --event-csv-tz, --event-csv-dates and --iis-tz, checked: a zone Node knows or a fixed offset; dmy or mdy. */
function localTimeOptions(flags: ScanFlags): { eventCsvZone?: string; eventCsvDates?: 'dmy' | 'mdy'; iisZone?: string } {
  const out: { eventCsvZone?: string; eventCsvDates?: 'dmy' | 'mdy'; iisZone?: string } = {};
  if (flags.eventCsvTz !== undefined) out.eventCsvZone = zoneFlag('--event-csv-tz', flags.eventCsvTz);
  if (flags.iisTz !== undefined) out.iisZone = zoneFlag('--iis-tz', flags.iisTz);
  if (flags.eventCsvDates !== undefined) {
    const d = flags.eventCsvDates.trim().toLowerCase();
    if (d !== 'dmy' && d !== 'mdy') throw new UsageError(`--event-csv-dates: ${JSON.stringify(flags.eventCsvDates)} is neither dmy (03/04/2021 = 3 April) nor mdy (= 4 March)`);
    out.eventCsvDates = d;
  }
  return out;
}

/** A calendar date (or ISO date-time) that really exists: 2021-13-45 and 2021-02-30 are refused, not rolled over. */
export function parseSince(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  const t = m ? isoTime(/^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? `${value.trim()}T00:00:00Z` : value) : null;
  const d = t === null ? null : new Date(Date.UTC(Number(m![1]), Number(m![2]) - 1, Number(m![3])));
  const real = d !== null && d.getUTCFullYear() === Number(m![1]) && d.getUTCMonth() === Number(m![2]) - 1 && d.getUTCDate() === Number(m![3]);
  if (t === null || !real || Number.isNaN(Date.parse(t))) throw new UsageError(`--since: not a valid date: ${JSON.stringify(value)} (use YYYY-MM-DD, e.g. 2021-01-01)`);
  return t;
}

/** --until: a day as for --since; a bare day means the end of that day. */
function parseUntil(value: string): string {
  try {
    const t = parseSince(value);
    return /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? new Date(Date.parse(t) + 86_399_999).toISOString() : t;
  } catch (err) {
    throw err instanceof UsageError ? new UsageError(err.message.replace('--since', '--until')) : err;
  }
}

/**
 * Every non-hidden entry of DIR is one host, so none is dropped unseen (review10 R9): folders and symlinks to them
 * (cases kept elsewhere), zips, and any other file (a .7z, .tar.gz or disk image is then named unread in that host's
 * skipped list, and its verdict is insufficient-evidence, as `scan FILE` does). Entries that are neither file nor
 * folder (a broken link, a socket) are named on stderr.
 */
async function hostsFrom(dir: string): Promise<Array<{ path: string; name?: string }>> {
  if (!existsSync(dir)) throw new UsageError(`--hosts-from: no such folder: ${dir}`);
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hosts: Array<{ path: string; name?: string }> = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const target = e.isSymbolicLink() ? await stat(path).catch(() => null) : e;
    // A link is scanned at its target (the evidence walker follows no link, not even a host's own root) and named
    // by its own name: a fleet folder of links named per customer keeps those names (review10 R9).
    if (target && (target.isDirectory() || target.isFile())) hosts.push(e.isSymbolicLink() ? { path: realpathSync(path), name: e.name } : { path });
    else process.stderr.write(`exhunt: --hosts-from: ${safeText(path)} is ${e.isSymbolicLink() ? 'a link to nothing readable' : 'neither a folder nor a file'}: not scanned\n`);
  }
  if (!hosts.length) throw new UsageError(`--hosts-from: no host folders or files in ${dir}`);
  return hosts;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A one-line progress display on stderr, only when stderr is a terminal. */
function progressPrinter(): ((p: Progress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200 && p.filesDone !== p.filesTotal) return;
    last = now;
    const line = `scanning ${safeText(p.host)} (${p.hostIndex + 1}/${p.hosts}): ${p.filesDone}/${p.filesTotal} files, ${byteSize(p.bytesDone)}/${byteSize(p.bytesTotal)}`;
    process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
  };
}

/** Reads --ioc files and compiles --yara rules once, so a bad file is one clear message, not one per file. */
async function checkIocAndYara(flags: ScanFlags): Promise<void> {
  try {
    for (const note of loadIocs(flags.ioc).notes) process.stderr.write(`${ERROR_PREFIX} --ioc: ${note}\n`);
  } catch (err) {
    if (err instanceof IocFileError) throw new UsageError(`--ioc: ${err.message}`);
    throw err;
  }
  if (flags.rules.length) {
    let files;
    try {
      files = await readRuleFiles(flags.rules);
    } catch (err) {
      if (err instanceof RuleFileError) throw new UsageError(err.message);
      throw err;
    }
    const { sigmaRules } = await import('../../rules/sigma.js');
    const { rules, problems } = sigmaRules(files);
    for (const p of problems) process.stderr.write(`${ERROR_PREFIX} --rules: ${p}\n`);
    if (rules.length === 0) throw new UsageError(`--rules: no usable Sigma rule in ${flags.rules.join(', ')}`);
  }
  if (flags.yara) {
    const engine = await yaraEngine(flags.yara);
    if ('error' in engine) throw new UsageError(`--yara: ${engine.error}`);
  }
}

/** --local: this Windows machine's evidence folders, said on stderr. */
function localEvidence(args: string[], flags: ScanFlags): LocalEvidence {
  if (args.length || flags.hostsFrom) throw new UsageError('--local scans this machine: give no PATH or --hosts-from with it');
  const local = findLocalEvidence(process.platform, process.env);
  if (!local) throw new UsageError(`--local works only on Windows, on the Exchange server itself (this is ${process.platform}); here, scan evidence copied off the server: exhunt scan PATH`);
  if (!local.only.length) throw new UsageError(`--local: no Exchange, IIS or event-log folders found:\n  ${local.notes.join('\n  ')}`);
  if (!flags.quiet) process.stderr.write(`exhunt: --local scans ${local.root} in place:\n  ${local.notes.join('\n  ')}\n`);
  return local;
}

/**
 * --also: folders read as part of the one host PATH is (Exchange on D:\ while C:\ is scanned: the Velociraptor
 * artifact passes %ExchangeInstallPath%), named as the server's drives (evidence/discover.ts alsoFolder). A folder
 * inside PATH is read once, as part of it; PATH inside a folder is read once, as PATH. A folder that does not exist
 * (a stale %ExchangeInstallPath%) is said and listed in the host's skipped; the rest is scanned.
 */
function alsoFolders(paths: string[], flags: ScanFlags): HostFolder[] | undefined {
  if (!flags.also.length) return undefined;
  if (paths.length !== 1 || flags.hostsFrom || flags.local) throw new UsageError('--also adds folders to one host: give exactly one PATH (no --hosts-from or --local)');
  if (!statSync(paths[0]).isDirectory()) throw new UsageError(`--also: ${paths[0]} is not a folder; --also adds folders to a folder PATH`);
  // Windows paths compare without case (C:\ and c:\ are one drive).
  const key = (p: string) => (process.platform === 'win32' ? p.toLowerCase() : p);
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  const realRoot = realTarget(paths[0]);
  const root = key(realRoot);
  const extra: HostFolder[] = [];
  for (const spec of flags.also) {
    const { note, ...folder } = alsoFolder(spec, resolve);
    if (!existsSync(folder.path)) {
      process.stderr.write(`exhunt: --also ${spec} does not exist: not read (listed in skipped); scanning the rest\n`);
      extra.push(folder);
      continue;
    }
    if (!statSync(folder.path).isDirectory()) throw new UsageError(`--also: not a folder: ${spec}`);
    const realDir = realTarget(folder.path);
    const real = key(realDir);
    if (under(real, root)) {
      if (!flags.quiet) process.stderr.write(`exhunt: --also ${spec} is inside ${paths[0]}: read once, as part of it\n`);
      continue;
    }
    if (under(root, real)) {
      if (!flags.quiet) process.stderr.write(`exhunt: ${paths[0]} is inside --also ${spec}: read once, as ${paths[0]}\n`);
      extra.push({ ...folder, skip: relative(realDir, realRoot).split(sep).join('/') });
    } else extra.push(folder);
    if (note && !flags.quiet) process.stderr.write(`exhunt: ${note}\n`);
  }
  return extra.length ? ['', ...extra] : undefined;
}

/** Where `target` really is: its own real path, else its nearest existing parent's real path plus the rest. */
function realTarget(target: string): string {
  let dir = resolve(target);
  const rest: string[] = [];
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    rest.unshift(basename(dir));
    dir = up;
  }
  return join(realpathSync(dir), ...rest);
}

/** Evidence is only read: an output written inside an input would also be scanned next time, and alters the evidence. */
function refuseOutputsInEvidence(flags: ScanFlags, paths: string[]): void {
  const outputs: Array<[string, string | undefined]> = [
    ['--json', flags.json], ['--csv', flags.csv], ['--html', flags.html], ['--ndjson', flags.ndjson], ['--timesketch', flags.timesketch], ['--stix', flags.stix],
  ];
  const inputs = paths.map((p) => realTarget(p));
  for (const [flag, out] of outputs) {
    if (out === undefined || out === STDOUT) continue;
    const target = realTarget(out);
    const inside = inputs.find((i) => target === i || target.startsWith(i.endsWith(sep) ? i : i + sep));
    if (inside) throw new UsageError(`${flag} ${out} is inside the evidence ${inside}: evidence is only read, never written; write the report elsewhere`);
  }
}

const ATTACK_VERDICTS = new Set(['compromised', 'attempted', 'suspicious']);

/**
 * 1 when some host shows signs of attack, else 3 when some host is exposed (vulnerable build or configuration), else
 * 4 when some host could not be judged (insufficient-evidence, or its build's update level unknown), else 0: a
 * script that branches on the code must not read "nothing to read" as "fine".
 */
export function exitCodeFor(hosts: readonly HostDigest[]): number {
  if (hosts.some((h) => ATTACK_VERDICTS.has(h.verdict))) return EXIT.FINDINGS;
  if (hosts.some((h) => h.exposed)) return EXIT.EXPOSURE;
  return hosts.some((h) => h.verdict === 'insufficient-evidence' || h.undecided) ? EXIT.INSUFFICIENT : EXIT.CLEAN;
}

export function registerScan(program: Command, started: Started): void {
  program
    .command('scan')
    .description('hunt for exploitation in evidence copied from Exchange servers; each PATH is one host')
    .argument('[PATH...]', 'evidence folder, single file or triage zip (one host each)')
    .option('--json <FILE>', 'write the full report as JSON (schema exhunt.scan/1)')
    .option('--html <FILE>', 'write a self-contained HTML report (opens offline in any browser)')
    .option('--csv <DIR>', 'write Test-ProxyLogon-style CSV/log files per host and exhunt-findings.csv into DIR (- prints exhunt-findings.csv)')
    .option('--csv-bom', 'start each CSV file with a UTF-8 byte-order mark (Excel on Windows then reads non-ASCII text right)')
    .option('--ndjson <FILE>', 'write one finding per line in the Elastic Common Schema (Elasticsearch, OpenSearch, Splunk)')
    .option('--ndjson-hosts', 'with --ndjson: also one verdict line per host (event.kind state), clean hosts included')
    .option('--timesketch <FILE>', 'write JSON Lines Timesketch imports as is: one line per finding and per timeline event')
    .option('--stix <FILE>', 'write the indicators found (attacker IPs, web shells, user agents) as a STIX 2.1 bundle with sightings per host')
    .option('--hosts-from <DIR>', 'also scan each entry of DIR as one host, sorted by name: folders (symlinks followed), .zip files, and any other file (a .7z or image is then named unread)')
    .option('--local', 'Windows: scan this machine in place (Exchange install folder, IIS logs and web root, IIS config, event logs), on every drive they are on')
    .option('--also <[D=]DIR>', 'read DIR as part of the one PATH\'s host, not as a host of its own (Exchange installed on another drive: scan C:\\ --also "D:\\Program Files\\Microsoft\\Exchange Server\\V15"); D=DIR: DIR is the root of the server\'s drive D: (a mounted image: scan /mnt/c --also D=/mnt/d); a DIR that does not exist is listed as skipped; repeatable', collect, [])
    .option('--since <DATE>', 'override: the logs must cover this date (YYYY-MM-DD) to the newest evidence (default: the exposure windows found in the evidence); log files dated before it are not read (listed as skipped by date)', DEFAULT_SINCE.slice(0, 10))
    .option('--until <DATE>', 'log files named for a later day are not read (listed as skipped by date)')
    .option('-j, --jobs <N>', 'scanning threads: this one and N − 1 workers (default: one per core)')
    .option('--ioc <FILE>', 'extra IOC file (CSV or STIX 2.1 bundle); repeatable', collect, [])
    .option('--yara <RULES>', 'also run these YARA rules over swept files')
    .option('--rules <PATH>', 'also run Sigma rules (a .yml file or a folder of them) for IIS and MSExchange Management logs; repeatable', collect, [])
    .option('--file-time-limit <SECONDS>', `stop reading one file (or one range of a huge log) after this long: it is listed as skipped with where it stopped, and the scan goes on; 0 = no limit (default: ${DEFAULT_FILE_SECONDS})`)
    .option('--event-csv-tz <ZONE>', "event logs saved as CSV: the exporting machine's time zone (IANA name such as Europe/Berlin, or an offset such as +01:00); without it their events are read but not placed on the timeline")
    .option('--event-csv-dates <ORDER>', 'event logs saved as CSV: dmy or mdy, when the file cannot settle the day/month order itself (no day above 12)')
    .option('--iis-tz <ZONE>', "IIS logs in IIS's own comma-separated format (u_in*.log, local times): the server's time zone (IANA name such as Europe/Berlin, or an offset such as +01:00); without it their requests are read but not placed in time")
    .option('--no-color', 'no colour in the terminal summary')
    .option('-q, --quiet', 'no terminal summary')
    .addHelpText(
      'after',
      `
Every FILE option takes - for stdout (one at a time; the terminal summary is then left out).

Examples:
  exhunt scan E:\\cases\\mail01.zip --html mail01.html
  exhunt-win-x64.exe scan --local --html report.html     (on the Exchange server, as Administrator)
  exhunt scan --hosts-from /cases/fleet --since 2021-01-01 --json fleet.json --csv out --csv-bom
  exhunt scan /cases/mail01 --timesketch mail01.jsonl --stix mail01.stix.json --ndjson -

The logs must cover every window in which the server was exposed (computed from the evidence: first in-the-wild
exploitation or install date, to the first fixing build seen); --since overrides that.

Exit codes (the first that applies): 1 signs of attack on some host (compromised, attempted or suspicious), 3 no
sign of an attack but a vulnerable build or configuration on some host (exposure only), 4 neither, but some host
could not be judged (insufficient-evidence, or its build's security update level unknown), 0 every host clean with
no exposure (low and info findings do not count); 2 usage or input error.
Evidence is only read, never written; an output inside an input PATH is refused.`,
    )
    .action(async (args: string[], flags: ScanFlags, cmd: Command) => {
      const since = parseSince(flags.since);
      const until = flags.until === undefined ? undefined : parseUntil(flags.until);
      const toStdout = claimStdout({ '--json': flags.json, '--csv': flags.csv, '--html': flags.html, '--ndjson': flags.ndjson, '--timesketch': flags.timesketch, '--stix': flags.stix });
      const local = flags.local ? localEvidence(args, flags) : null;
      const fleet = flags.hostsFrom ? await hostsFrom(flags.hostsFrom) : [];
      const paths = local ? [local.root] : [...args, ...fleet.map((h) => h.path)];
      if (!paths.length) throw new UsageError('scan: give at least one PATH, or --hosts-from DIR');
      const missing = paths.filter((p) => !existsSync(p));
      if (missing.length) throw new UsageError(`no such file or folder: ${missing.join(', ')}`);
      const only = local ? local.only : alsoFolders(paths, flags);
      const jobs = flags.jobs === undefined ? undefined : Number(flags.jobs);
      if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs: not a positive whole number: ${flags.jobs}`);
      const fileSeconds = flags.fileTimeLimit === undefined ? DEFAULT_FILE_SECONDS : Number(flags.fileTimeLimit);
      if (!Number.isFinite(fileSeconds) || fileSeconds < 0) throw new UsageError(`--file-time-limit: not a number of seconds: ${flags.fileTimeLimit}`);
      const eventCsv = localTimeOptions(flags);
      for (const f of [...flags.ioc, ...(flags.yara ? [flags.yara] : [])]) if (!existsSync(f)) throw new UsageError(`no such file: ${f}`);
      refuseOutputsInEvidence(flags, [...paths, ...(only ?? []).flatMap((f) => (typeof f === 'string' ? [] : [f.path]))]);
      await checkIocAndYara(flags);
      const onProgress = flags.quiet ? undefined : progressPrinter();
      // Reports are written host by host and each host is dropped once written (src/report/stream.ts).
      const outputs = new ReportStream({ json: flags.json, ndjson: flags.ndjson, ndjsonHosts: flags.ndjsonHosts, csv: flags.csv, csvBom: flags.csvBom, html: flags.html, timesketch: flags.timesketch, stix: flags.stix });
      const terminal: string[] = [];
      const color = flags.color && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const showTerminal = !flags.quiet && !toStdout;
      try {
        await outputs.start();
        const { tool } = await scanEach({
        paths,
        names: local ? [] : [...args.map(() => undefined), ...fleet.map((h) => h.name)],
        jobs,
        workers: started.scanWorkers,
        options: { since, sinceExplicit: cmd.getOptionValueSource('since') === 'cli', iocFiles: flags.ioc, yaraRules: flags.yara ?? null, ruleFiles: flags.rules, fileSeconds, ...eventCsv },
        until,
        // Name dates only for a window the user asked for (see evidence/dates.ts).
        byName: cmd.getOptionValueSource('since') === 'cli' || until !== undefined,
        onProgress,
        command: ['exhunt', ...cmd.parent!.args],
        only,
      }, async (host) => {
        if (showTerminal) terminal.push(renderTerminal({ hosts: [host], tool: { options: { since } } }, { color, ...(flags.html ? { htmlPath: flags.html } : {}) }));
        await outputs.host(host, since);
      });
        if (onProgress) process.stderr.write('\r\x1b[K');
        await outputs.finish(tool);
      } finally {
        outputs.dispose();
      }
      if (showTerminal) {
        process.stdout.write(terminal.join('\n'));
        if (outputs.digests.length > 1) process.stdout.write(`\n${fleetTableOf(outputs.digests, { color })}`);
      }
      process.exitCode = exitCodeFor(outputs.digests);
    });
}
