// Scans hosts: evidence -> records -> findings (in workers) -> host verdict. One HostResult per input PATH.
import { basename, resolve } from 'node:path';
import type { Coverage, Fact, Finding, HostResult, RawFinding, ScanReport, Skipped, ToolInfo } from '../model.js';
import { byRel, evidenceFiles, type HostFolder } from '../evidence/discover.js';
import { openArchives } from '../evidence/archives.js';
import { maybeEseStore, withoutEseStores } from '../evidence/ese.js';
import { dropZone } from '../rules/files/sweep.js';
import { winRel } from './scanners/files.js';
import { withoutOwnReports } from '../evidence/own-reports.js';
import { closeZips } from '../evidence/zip.js';
import type { EvidenceFile } from '../evidence/file.js';
import { VERSION } from '../version.js';
import { FilePool } from './pool.js';
import type { EarlyWorker } from './workers.js';
import type { FileTaskResult } from './file-task.js';
import { prepare, type Prepared } from './registry.js';
import type { ScanOptions } from './types.js';
import { judgeHost } from './host.js';
import { locateWindowsPath } from './locate.js';
import { applyHostRules } from '../rules/host.js';
import { ruleCredits } from '../rules/references.js';
import { moduleImageFacts } from './module-images.js';
import { caseFacts, incompleteCase, readCaseManifest, type CaseManifest } from '../evidence/case.js';
import { collectionFacts, mapCollection, type Collection } from '../evidence/layout.js';
import { hostLabel, inputNames } from './hosts.js';
import { namedDays, outsideWindow, skipByDate, type DateWindow } from '../evidence/dates.js';
import { exposureWindows, isWebSource, windowHoles } from './exposure-windows.js';
import { DEFAULT_FILE_SECONDS } from './budget.js';
import { FindingGrouper, findingOrder, onServer } from './group.js';
import { EcmdDuplicates } from './evtx-duplicates.js';
import { applyRecordedTime, caseFileTimes, collectionFileTimes, serverKey, type RecordedTime } from './collection-times.js';
import { logHoles, mergeCoverage } from './coverage.js';
import { markOtherSites, otherSites } from './exchange-sites.js';
import { webLogGaps } from './log-gaps.js';
import { compareText } from '../semantics.js';

export const DEFAULT_SINCE = '2020-12-01T00:00:00.000Z';


/** Exchange's own folder in the evidence: its front end (web-shell drop zones) or its logs, with or without V15 above. */
const EXCHANGE_TREE = /(?:^|\/)(?:exchange server\/v1[45]|frontend\/httpproxy|clientaccess\/(?:owa|ecp)|logging\/httpproxy)\//i;
/** Files handed to the pool while a folder is listed: a first part soon (the workers wait for it), then larger ones. */
const FIRST_PART = 64;
const LAST_PART = 4096;
/** A collection's own files (Velociraptor, KAPE): the files listed after one get server paths, so wait for the list. */
const COLLECTION_MARK = /(^|\/)(collection_context|client_info|metadata)\.json$|_CopyLog\.csv$/i;
/**
 * Files a scan may start on before the listing ends: what the steps after it (own reports, archives, dates) would
 * most likely change or leave out waits for them. Only a guess to save work: `scanHost` checks every early result.
 */
const MAYBE_CHANGED = /\.(json|html?|ndjson|csv|zip|gz|tgz|7z|rar|cab)$/i;
function early(f: EvidenceFile, window: DateWindow): boolean {
  return f.kind === 'fs' && !MAYBE_CHANGED.test(f.rel) && !maybeEseStore(f.rel) && outsideWindow(f, window) === null;
}

export interface Progress {
  host: string;
  hostIndex: number;
  hosts: number;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ScanRequest {
  paths: string[];
  /** The name each PATH is known by when not its own (a --hosts-from link, scanned at its target: the link's name). */
  names?: ReadonlyArray<string | undefined>;
  options?: Partial<ScanOptions>;
  /** Scanning lanes: this thread and jobs − 1 workers; 1 scans in this thread alone. Default: one per core, for evidence large enough to be worth it. */
  jobs?: number;
  onProgress?: (p: Progress) => void;
  /** The command line, recorded in the report. */
  command?: string[];
  /**
   * Walk only these folders below each PATH (`scan --local`: the evidence folders of this machine), and folders
   * elsewhere as part of the same host (`--also`: Exchange on another drive).
   */
  only?: HostFolder[];
  /** --until (ISO): log files named for a later day are not read (listed as skipped by date). */
  until?: string;
  /** The user gave --since or --until: log files are skipped by their name date too (evidence/dates.ts). */
  byName?: boolean;
  /** Split files on disk of twice this size or more into byte ranges scanned apart (default: 64 MiB with workers). */
  rangeBytes?: number;
  /** Scan workers already started (cli/early.ts), taken before fresh ones. */
  workers?: EarlyWorker[];
}

export function scanOptions(partial: Partial<ScanOptions> = {}): ScanOptions {
  return {
    since: partial.since ?? DEFAULT_SINCE,
    sinceExplicit: partial.sinceExplicit ?? false,
    iocFiles: partial.iocFiles ?? [],
    yaraRules: partial.yaraRules ?? null,
    ruleFiles: partial.ruleFiles ?? [],
    fileSeconds: partial.fileSeconds ?? DEFAULT_FILE_SECONDS,
    ...(partial.eventCsvZone !== undefined ? { eventCsvZone: partial.eventCsvZone } : {}),
    ...(partial.eventCsvDates !== undefined ? { eventCsvDates: partial.eventCsvDates } : {}),
    ...(partial.iisZone !== undefined ? { iisZone: partial.iisZone } : {}),
  };
}

/** The whole report in memory: for the library and tests. The CLI streams with `scanEach`. */
export async function scan(req: ScanRequest): Promise<ScanReport> {
  const hosts: HostResult[] = [];
  const { tool } = await scanEach(req, (h) => {
    hosts.push(h);
  });
  return { schema: 'exhunt.scan/1', tool, hosts };
}

/**
 * Scans the hosts one after another and hands each finished HostResult, labelled, to `onHost`, awaited before the
 * next host starts, so a caller that writes it out and drops it holds one host at a time. The label's input part is
 * known from the inputs alone, so every report can name the host (CSV file names and rows, terminal blocks) as it
 * is written.
 */
export async function scanEach(req: ScanRequest, onHost: (host: HostResult, index: number) => void | Promise<void>): Promise<{ tool: ToolInfo }> {
  const started = new Date().toISOString();
  const options = scanOptions(req.options);
  const pool = new FilePool(req.jobs, options, req.rangeBytes, req.workers);
  pool.start();
  const inputs = req.paths.map((input, i) => ({ input, name: req.names?.[i] }));
  const names = inputNames(inputs);
  let prepared: Prepared | null = null;
  try {
    prepared = await prepare(options);
    for (let i = 0; i < req.paths.length; i++) {
      const h = await scanHost(inputs[i], i, req.paths.length, pool, options, prepared, req.onProgress, req.only, { until: req.until ?? null, byName: req.byName ?? false });
      // Set last: the label is the host's last key in the JSON report.
      h.label = hostLabel(names[i], h.facts.some((f) => f.kind === 'hostname') ? h.name : null);
      await onHost(h, i);
    }
  } finally {
    prepared?.close();
    await Promise.all([pool.close(), closeZips()]);
  }
  return {
    tool: { name: 'exhunt', version: VERSION, started, finished: new Date().toISOString(), command: req.command ?? [], options: { since: options.since, since_explicit: options.sinceExplicit } },
  };
}

async function scanHost(
  { input, name }: { input: string; name?: string | undefined },
  hostIndex: number,
  hostCount: number,
  pool: FilePool,
  options: ScanOptions,
  prepared: Prepared,
  onProgress: ((p: Progress) => void) | undefined,
  only: HostFolder[] | undefined,
  dates: { until: string | null; byName: boolean },
): Promise<HostResult> {
  const t0 = performance.now();
  const skipped: Skipped[] = [];
  const incomplete = await incompleteCase(input);
  if (incomplete) skipped.push(incomplete);
  const folderName = (name ?? basename(resolve(input))).replace(/\.zip$/i, '');
  const window = { since: options.since, ...dates };
  // Known once the listing is done (`settle`).
  let listed: EvidenceFile[] | null = null;
  let collection: Collection = { kind: null, files: [] };
  let opened: EvidenceFile[] = [];
  let files: EvidenceFile[] = [];
  let caseTimes: Map<string, RecordedTime> | null = null;
  let recorded = new Map<string, RecordedTime>();
  let manifest: CaseManifest | null = null;
  const timeOf = (f: RawFinding) => (caseTimes ? caseTimes.get(f.source.path) : f.source.server_path ? recorded.get(serverKey(f.source.server_path)) : undefined);
  const grouper = new FindingGrouper();
  const add = (f: RawFinding) => {
    applyRecordedTime(f, timeOf);
    grouper.add(f);
  };
  let coverage: Coverage[] = [];
  const facts: Fact[] = [];
  let scanned = 0;
  let bytes = 0;
  const progress: Progress = { host: folderName, hostIndex, hosts: hostCount, filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  // The same events read from an .evtx and from EvtxECmd's export of it are counted once.
  const duplicates = new EcmdDuplicates();
  /** The files read as web logs: the days they are named for, and the holes between them (coverage.ts). */
  const webLogs: string[] = [];
  /** Each IIS site's files with records, to tell Exchange's sites from other websites (exchange-sites.ts). */
  const iisFiles = new Map<string, EvidenceFile[]>();
  const take = (file: EvidenceFile, r: FileTaskResult) => {
    if (r.formats.length) scanned++;
    bytes += r.bytes;
    for (const f of r.findings) {
      const g = onServer(f, file);
      if (!duplicates.hold(g)) add(g);
    }
    // Kinds a log scanner already collapsed (their findings carry a line or record: no file times to add).
    for (const g of r.groups ?? []) if (!duplicates.holdGroup(g)) grouper.addGroup(g);
    coverage.push(...r.coverage);
    if (r.coverage.some((c) => c.records > 0 && isWebSource(c))) webLogs.push(file.rel);
    for (const c of r.coverage) {
      if (c.records === 0 || !/^iis/i.test(c.format)) continue;
      const list = iisFiles.get(c.source);
      if (list) list.push(file);
      else iisFiles.set(c.source, [file]);
    }
    // Per-file rows of 200,000 files would pile up until the host ends: merged as they come.
    if (coverage.length > 4096) coverage = mergeCoverage(coverage);
    facts.push(...r.facts);
    skipped.push(...r.skipped);
    progress.filesDone++;
    progress.bytesDone += file.size;
    onProgress?.(progress);
  };
  /**
   * Files handed to the pool while the listing runs (plain files of a folder: see `early`). Their results are held
   * until the listing is done; each stands only if the very file object is among the files to scan then — one that
   * the steps below changed (a collection's server path) or left out (a report, a collection's metadata) is dropped
   * and, when changed, scanned again: the host's results are exactly those of scanning the finished list.
   */
  const sent = new Set<EvidenceFile>();
  const held: Array<[EvidenceFile, FileTaskResult]> = [];
  let kept: Set<EvidenceFile> | null = null;
  const settle = async () => {
    collection = mapCollection(listed ? await withoutOwnReports(listed, skipped) : [], skipped);
    // Decided before any byte is read; what is left out is listed in `skipped`, never dropped silently.
    // Exchange's databases are never in a folder IIS serves: a file there is read whatever its header says.
    opened = await withoutEseStores(await openArchives(collection.files, skipped), skipped, (p) => dropZone(winRel(p)) !== null);
    files = skipByDate(opened, window, skipped);
    // The case manifest is read first so that file times are set as findings arrive (groups order by time).
    manifest = listed ? await caseManifest(input, skipped) : null;
    // File findings carry no time of their own (a copy's file times are the copy date): the times the case manifest,
    // else a KAPE / Velociraptor manifest, recorded on the server are used, and labelled.
    caseTimes = manifest ? caseFileTimes(manifest) : null;
    recorded = listed ? await collectionFileTimes(collection, skipped) : new Map<string, RecordedTime>();
    kept = new Set(files);
    progress.filesTotal = files.length;
    progress.bytesTotal = files.reduce((s, f) => s + f.size, 0);
    onProgress?.(progress);
    for (const [file, r] of held.splice(0)) if (kept.has(file)) take(file, r);
  };
  async function* parts(): AsyncGenerator<EvidenceFile[]> {
    const all: EvidenceFile[] = [];
    let part: EvidenceFile[] = [];
    let size = FIRST_PART;
    let streaming = true;
    try {
      for await (const f of evidenceFiles(resolve(input), skipped, only)) {
        all.push(f);
        if (streaming && COLLECTION_MARK.test(f.rel)) streaming = false;
        if (!streaming || !early(f, window)) continue;
        sent.add(f);
        part.push(f);
        if (part.length >= size) {
          yield part;
          part = [];
          size = Math.min(size * 2, LAST_PART);
        }
      }
      listed = all.sort(byRel);
    } catch (err) {
      // A container that cannot be listed (a truncated or corrupt zip) costs this host only: it is named in skipped
      // and the other hosts are still scanned and reported.
      const e = err as NodeJS.ErrnoException;
      skipped.push({ path: basename(input), reason: `evidence not readable, host not scanned: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}` });
    }
    if (part.length) yield part;
    await settle();
    const rest = files.filter((f) => !sent.has(f));
    if (rest.length) yield rest;
  }
  await pool.run(parts(), prepared, (file: EvidenceFile, r) => {
    if (kept === null) held.push([file, r]);
    else if (kept.has(file)) take(file, r);
  });
  // Results arrive in the order the lanes finish; facts are read first-wins (the build, a config's source), so they
  // are put in the files' order: the report is the same with any --jobs.
  facts.sort(byPlace);
  const late = duplicates.release();
  for (const f of late.findings) add(f);
  for (const g of late.groups) grouper.addGroup(g);
  skipped.push(...late.notes);
  if (manifest) facts.push(...caseFacts(manifest));
  if (listed) facts.push(...(await collectionFacts(collection, skipped)));
  facts.push(...(await moduleImageFacts(facts, files)));
  const locate = (winPath: string) => locateWindowsPath(winPath, files)?.rel ?? null;
  const ruled = applyHostRules(prepared.rules.hostRules, grouper.findings(), { facts, since: options.since, locate, paths: files.map((f) => f.server ?? f.rel) });
  for (const reason of ruled.failed) skipped.push({ path: folderName, reason });
  const findings = numberFindings(ruled.findings);
  const other = await otherSites(iisFiles);
  const merged = markOtherSites(mergeCoverage(coverage), other);
  const otherLogs = new Set([...other].flatMap((s) => (iisFiles.get(s) ?? []).map((f) => f.rel)));
  const holes = logHoles(namedDays(webLogs.filter((rel) => !otherLogs.has(rel))));
  const gaps = await webLogGaps([...iisFiles].flatMap(([source, list]) => (other.has(source) ? [] : list)));
  const windows = windowHoles(exposureWindows(facts, merged), holes);
  const installTree = files.some((f) => EXCHANGE_TREE.test(f.rel)) || merged.some((c) => /^(?:httpproxy|ecp)/i.test(c.format));
  const { verdict, reasons, ...judged } = judgeHost(findings, merged, options.since, { windows, sinceExplicit: options.sinceExplicit }, { skipped, holes, gaps, installTree });
  return {
    name: hostName(facts) ?? folderName,
    inputs: [input],
    verdict,
    reasons,
    coverage: merged,
    findings,
    facts: dedupeFacts(facts),
    skipped: skipped.sort((a, b) => compareText(a.path, b.path) || (a.line ?? 0) - (b.line ?? 0)),
    stats: {
      files_seen: files.length,
      files_scanned: scanned,
      files_ignored: files.length - scanned,
      files_skipped_by_date: opened.length - files.length,
      bytes_scanned: bytes,
      seconds: Math.round(performance.now() - t0) / 1000,
    },
    exposure_windows: windows,
    ...judged,
  };
}

/** The collector's case manifest, when the input is a case. */
async function caseManifest(input: string, skipped: Skipped[]): Promise<CaseManifest | null> {
  try {
    return await readCaseManifest(resolve(input));
  } catch (err) {
    skipped.push({ path: 'manifest.json', reason: `case manifest not usable: ${err instanceof Error ? err.message : String(err)}` });
    return null;
  }
}

/** Deterministic order (time, then place), most severe first among equals; ids follow that order. */
function numberFindings(raw: RawFinding[]): Finding[] {
  const sorted = [...raw].sort(findingOrder);
  const width = String(sorted.length).length;
  return sorted.map((f, i) => {
    const credits = ruleCredits(f.rule);
    return { id: `F${String(i + 1).padStart(Math.max(4, width), '0')}`, ...f, ...(credits.length ? { credits } : {}) };
  });
}

function dedupeFacts(facts: Fact[]): Fact[] {
  const seen = new Map<string, Fact>();
  for (const f of facts) {
    const key = `${f.kind}\u0000${f.value}\u0000${f.origin}`;
    const prev = seen.get(key);
    if (!prev || (f.time ?? '') < (prev.time ?? '')) seen.set(key, f);
  }
  return [...seen.values()].sort((a, b) => compareText(a.kind, b.kind) || compareText(a.time ?? '', b.time ?? '') || compareText(a.value, b.value));
}

/** The server's own name, when its logs say it (ServerHostName / ServerName / a collector manifest). */
function hostName(facts: Fact[]): string | null {
  const names = facts.filter((f) => f.kind === 'hostname').map((f) => f.value);
  if (!names.length) return null;
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))[0][0];
}

/** Facts by where they were read: path, line or record, then what they say. */
function byPlace(a: Fact, b: Fact): number {
  return (
    compareText(a.source.path, b.source.path) ||
    (a.source.line ?? 0) - (b.source.line ?? 0) ||
    (a.source.record ?? 0) - (b.source.record ?? 0) ||
    compareText(a.kind, b.kind) ||
    compareText(a.value, b.value) ||
    compareText(a.origin, b.origin)
  );
}
