// The file sweep: every evidence file that is not a log is hashed (streamed), checked against the known-bad and
// known-good hash lists, its path against the web-shell drop zones and IOC names, and — when it is a web script
// or small — its content against the signatures. lsass dumps are found by content, archives staged under
// ProgramData by name and magic. Optional YARA rules run over the same files.
import { createHash } from 'node:crypto';
import type { EvidenceValue, RawFinding, Severity } from '../../model.js';
import { withMeaning } from '../../semantics.js';
import { CHUNK_SIZE, readChunks, type EvidenceFile } from '../../evidence/file.js';
import { toWinLower } from '../../evidence/paths.js';
import { peFileVersion } from '../../parsers/pe.js';
import { checkBaseline, exchangeRelPath, type BaselineVerdict } from '../../rules/files/baselines.js';
import { MAGIC, binaryPage, fileTexts, matchSignatures, shellKeywords } from '../../rules/files/content.js';
import type { IocStore } from '../../rules/iocs.js';
import { TUNNEL_TOOLS } from '../../rules/tools.js';
import { yaraScan } from '../../rules/files/yara.js';
import { DROP_ZONES, FILE_RULES, notShippedTitle, type FileRuleId, type Zone } from '../../rules/files/rules.js';
import type { RuleHit, RuleMeta } from '../../rules/types.js';
import { emptyResult, type FileScanResult, type ScanOptions, type Scanner } from '../types.js';

/** Files up to this size are read whole (hash + content); larger ones are streamed. */
const SMALL = 4 * 1024 * 1024;
/** Content signatures run on web scripts up to SMALL, and on any other file up to this size. */
const SMALL_OTHER = 1024 * 1024;
const WEB_SCRIPT = new Set(['.aspx', '.ashx', '.asmx', '.asax', '.asp', '.ascx', '.cshtml', '.master', '.svc']);
/** Logs and event logs belong to the text-log and EVTX scanners. */
const NOT_SWEPT = new Set(['.log', '.evtx', '.etl']);
/** Zip-based document and package formats: zip magic there is not a staged archive. */
const ZIP_DOCS = new Set(['.docx', '.xlsx', '.pptx', '.docm', '.xlsm', '.pptm', '.dotx', '.jar', '.nupkg', '.vsix', '.appx', '.msix', '.xpi', '.whl', '.odt', '.ods', '.epub', '.apk', '.kmz', '.xps']);
/** ProgramData folders of antivirus and backup agents whose archives are routine (reported low, never hidden). */
const VENDOR_DIRS = [
  'mcafee', 'symantec', 'norton', 'sophos', 'trend micro', 'eset', 'kaspersky lab', 'crowdstrike', 'sentinel', 'carbon black', 'cylance',
  'bitdefender', 'malwarebytes', 'microsoft\\windows defender', 'microsoft\\microsoft antimalware', 'microsoft\\windows defender advanced threat protection',
  'veeam', 'veritas', 'commvault', 'acronis', 'arcserve', 'package cache', 'microsoft\\windows\\wer',
];

export const fileSweepScanner: Scanner = {
  name: 'files',
  classify(file) {
    return NOT_SWEPT.has(extOf(file.rel)) || file.role === 'collection-metadata' ? null : 'file';
  },
  scan: (file, _format, options, rules) => sweepFile(file, options, rules.context.iocs),
};

function extOf(rel: string): string {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** The web-shell drop zone a path is in (case-insensitive, either separator). */
export function dropZone(win: string): Zone | null {
  const p = '\\' + win;
  const after = (marker: string) => {
    const i = p.lastIndexOf(marker);
    return i < 0 ? null : p.slice(i + marker.length);
  };
  const owa = after('\\httpproxy\\owa\\auth\\') ?? after('\\clientaccess\\owa\\auth\\');
  if (owa !== null) return owa.includes('\\') ? 'owa-auth-sub' : 'owa-auth';
  if (after('\\httpproxy\\ecp\\auth\\') !== null) return 'ecp-auth';
  if (after('\\inetpub\\wwwroot\\aspnet_client\\') !== null) return 'aspnet_client';
  if (after('\\frontend\\httpproxy\\') !== null || after('\\clientaccess\\') !== null) return 'exchange-web';
  if (after('\\inetpub\\wwwroot\\') !== null) return 'wwwroot';
  return null;
}

/** What one file's checks need to know, gathered once. */
interface Ctx {
  file: EvidenceFile;
  /** The path people see: the server's Windows path when the collection records it, else the evidence path. */
  shown: string;
  win: string;
  name: string;
  ext: string;
  script: boolean;
  zone: Zone | null;
  exRel: string | null;
  out: RawFinding[];
  base: Record<string, EvidenceValue>;
  iocs: IocStore;
}

/** The per-hit part of a file finding; title, severity and kind override the rule's defaults where a hit is graded. */
type FileHit = Pick<RuleHit, 'summary' | 'title' | 'severity' | 'kind'> & { evidence?: Record<string, EvidenceValue> };

/** Reports a hit of a file rule (by id) or of a content signature. */
function add(ctx: Ctx, rule: FileRuleId | RuleMeta, hit: FileHit): void {
  const meta = typeof rule === 'string' ? FILE_RULES[rule] : rule;
  ctx.out.push(withMeaning({
    rule: meta.id,
    title: hit.title ?? meta.title,
    cves: [...meta.cves],
    severity: hit.severity ?? meta.severity,
    kind: hit.kind ?? meta.kind,
    time: null,
    client_ip: null,
    source: { path: ctx.file.rel },
    summary: hit.summary,
    evidence: { ...ctx.base, ...hit.evidence },
  }, 'Files'));
}

export async function sweepFile(file: EvidenceFile, options: ScanOptions, iocs: IocStore): Promise<FileScanResult> {
  const result = emptyResult();
  const shown = file.server ?? file.rel;
  const win = toWinLower(shown).replace(/^[a-z]:\\/, ''); // drive-less, like a relative evidence path
  const ext = extOf(shown.replace(/\\/g, '/'));
  const ctx: Ctx = {
    file,
    shown,
    win,
    name: win.slice(win.lastIndexOf('\\') + 1),
    ext,
    script: WEB_SCRIPT.has(ext),
    zone: dropZone(win),
    exRel: exchangeRelPath(shown),
    out: result.findings,
    // No file time: a copy's times are the copy date. A case manifest's recorded times are added by scan.ts.
    base: { file: shown, sha256: null, size: file.size },
    iocs,
  };
  let read: Read;
  try {
    read = await readFile(file, probesFor(ctx));
  } catch (err) {
    result.skipped.push({ path: file.rel, reason: `not readable, checked by path only: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    pathChecks(ctx, { status: 'unknown-path' });
    return result;
  }
  result.bytes = read.bytes;
  ctx.base.sha256 = read.sha256;
  // A copied ExSetup.exe's file version is the server's full build (SU included): a fact for EXP-01.
  const build = ctx.name === 'exsetup.exe' && read.all ? peFileVersion(read.all) : null;
  if (build) result.facts.push({ kind: 'build', value: build, source: { path: file.rel }, time: null, origin: 'ExSetup.exe' });
  const bad = iocs.hashes.get(read.sha256);
  if (bad) add(ctx, 'WS-08', { summary: `${shown}: ${bad.note}`, evidence: { ioc_source: bad.source } });
  const bl: BaselineVerdict = ctx.exRel ? checkBaseline(ctx.exRel, read.sha256) : { status: 'unknown-path' };
  if (bl.status === 'known') return result; // Microsoft's own file, byte for byte
  contentChecks(ctx, read, bl);
  pathChecks(ctx, bl);
  dumpAndArchiveChecks(ctx, read);
  if (options.yaraRules) await yaraChecks(ctx, read, options.yaraRules, result);
  return result;
}

// ---- reading ------------------------------------------------------------------------------------------------

interface Read {
  sha256: string;
  bytes: number;
  head: Buffer;
  /** The head is a minidump header (MAGIC.minidump). */
  minidump: boolean;
  /** The whole file when it is at most SMALL bytes. */
  all: Buffer | null;
  /** Probe names whose bytes occur in the file. */
  found: Set<string>;
}

interface Probe {
  name: string;
  bytes: Buffer[];
}

const wide = (s: string) => Buffer.from(s, 'utf16le');
const PROBES = {
  lsass: { name: 'lsasrv.dll', bytes: [wide('lsasrv.dll'), wide('LSASRV.DLL'), Buffer.from('lsasrv.dll')] },
  appWeb: { name: 'aspnet_client or auth virtual path', bytes: ['~/aspnet_client/', '~/auth/'].flatMap((s) => [Buffer.from(s), wide(s)]) },
} satisfies Record<string, Probe>;

/** Byte patterns worth looking for in this file while it streams (minidumps are found by their header). */
function probesFor(ctx: Ctx): Probe[] {
  const probes: Probe[] = [PROBES.lsass];
  if (/^app_web_[a-z0-9]{7,8}\.dll$/.test(ctx.name)) probes.push(PROBES.appWeb);
  return probes;
}

async function readFile(file: EvidenceFile, probes: Probe[]): Promise<Read> {
  const hash = createHash('sha256');
  const found = new Set<string>();
  const parts: Buffer[] = [];
  let head: Buffer | null = null;
  let bytes = 0;
  let minidump = false;
  let tail = Buffer.alloc(0);
  const keep = Math.max(...probes.flatMap((p) => p.bytes.map((b) => b.length))) - 1;
  // A small file gets a buffer of its own size, not the default 4 MiB (thousands of small web files).
  // One reused read buffer per file (a large file no longer allocates 4 MiB per chunk): what outlives a chunk is
  // copied (the head) or is the file's only chunk (a small file kept whole).
  for await (const chunk of readChunks(file, Math.min(CHUNK_SIZE, Math.max(64 * 1024, file.size + 1)), { reuse: true })) {
    hash.update(chunk);
    if (head === null) {
      head = Buffer.from(chunk.subarray(0, 64 * 1024));
      minidump = MAGIC.minidump(head);
    }
    if (bytes + chunk.length <= SMALL) parts.push(chunk);
    else parts.length = 0;
    bytes += chunk.length;
    // Probes only matter for dumps and compiled pages; the window spans chunk edges.
    if (minidump || probes.length > 1) {
      const win = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      for (const p of probes) if (!found.has(p.name) && p.bytes.some((b) => win.includes(b))) found.add(p.name);
      tail = Buffer.from(win.subarray(Math.max(0, win.length - keep)));
    }
  }
  return { sha256: hash.digest('hex'), bytes, head: head ?? Buffer.alloc(0), minidump, all: bytes <= SMALL ? Buffer.concat(parts) : null, found };
}

// ---- content ------------------------------------------------------------------------------------------------

/** Content signatures, magic checks and the keyword heuristic. */
function contentChecks(ctx: Ctx, read: Read, bl: BaselineVerdict): void {
  const { head, all } = read;
  let strong = false;
  if (MAGIC.pst(head) && (ctx.script || ctx.zone)) {
    strong = true;
    add(ctx, 'WS-27', {
      severity: ctx.script ? 'critical' : 'high',
      summary: `${ctx.shown} starts with the PST header !BDN: New-MailboxExportRequest wrote a mailbox into a web folder`,
    });
  }
  if (MAGIC.der(head) && ctx.script) {
    strong = true;
    add(ctx, 'WS-28', { summary: `${ctx.shown} is a DER certificate request: New-ExchangeCertificate -RequestFile wrote it into a web folder` });
  }
  const scanText = all !== null && (ctx.script || read.bytes <= SMALL_OTHER) && !MAGIC.pe(head) && !read.minidump;
  if (!scanText || all === null) return;
  const texts = fileTexts(all);
  if (!strong && binaryPage(head, texts[0])) {
    strong = true;
    add(ctx, 'WS-29', { summary: `${ctx.shown}: "Page Language=" after non-text leading bytes (a page smuggled in another format)` });
  }
  for (const sig of matchSignatures(texts, read.bytes)) {
    strong = true;
    // A signature in a file the web server would not run (a .txt dump, a script) is evidence, not a live shell.
    const live = ctx.script || sig.kind !== 'webshell';
    add(ctx, sig, { severity: live ? sig.severity : 'high', summary: `${ctx.shown}: ${sig.title}`, evidence: { signature_sources: sig.references } });
  }
  if (ctx.name === 'applicationhost.config') strong = appHostConfig(ctx, texts[0]) || strong;
  if (ctx.ext === '.wer' && read.bytes < 8192 && texts.some((t) => t.includes('apppath=c:\\windows\\system32\\inetsrv\\w3wp.exe') && t.includes('.value=w3wp#msexchangeecpapppool')))
    add(ctx, 'PL-43', { summary: `${ctx.shown}: w3wp MSExchangeECPAppPool crash report` });
  if (!strong && ctx.script && bl.status === 'unknown-path') {
    const kws = texts.flatMap(shellKeywords).filter((k, i, a) => a.indexOf(k) === i);
    const severity: Severity | null = kws.length === 0 ? null : ctx.zone && ctx.zone !== 'exchange-web' ? 'high' : kws.length >= 2 ? 'medium' : 'low';
    if (severity) add(ctx, 'WS-31', { severity, summary: `${ctx.shown}: ${kws.join(', ')}`, evidence: { keywords: kws } });
  }
}

function appHostConfig(ctx: Ctx, text: string): boolean {
  const proxyShell = /physicalpath="c:\\(programdata\\(com|who|zing|zoo|xyz|aux|con)\\|users\\all users\\)/.exec(text);
  const hunting = proxyShell ?? /physicalpath="c:\\(programdata|users)\\/.exec(text);
  if (!hunting) return false;
  add(ctx, 'WS-10', { severity: proxyShell ? 'high' : 'medium', summary: `applicationHost.config: ${hunting[0]}`, evidence: { match: hunting[0] } });
  return true;
}

// ---- paths --------------------------------------------------------------------------------------------------

/**
 * Drop-zone, baseline and IOC-name checks. When the content checks already reported the file, a name IOC is added
 * to those findings instead of a second finding for the same file.
 */
function pathChecks(ctx: Ctx, bl: BaselineVerdict): void {
  const ioc = nameIoc(ctx);
  const zone = ctx.zone;
  const iocEv: Record<string, EvidenceValue> = ioc ? { ioc: ioc.what, ioc_source: ioc.source } : {};
  const own = ctx.out.filter((f) => f.source.path === ctx.file.rel);
  if (own.length > 0) {
    for (const f of own) Object.assign(f.evidence, iocEv);
    return;
  }
  if (zone && ctx.script) {
    if (bl.status === 'differs') {
      add(ctx, 'WS-07', {
        summary: `${ctx.shown}: content is in none of the known-good lists (builds ${bl.builds.join(', ')}); another build, or modified`,
        evidence: { baseline_builds: bl.builds, ...iocEv },
      });
    } else {
      // The title names the zone: in the exchange-web zone WS-07's own title (about modified pages) would not fit.
      const summary = `${ctx.shown}: not one of Microsoft's files${ioc ? `; ${ioc.what}` : ''}`;
      add(ctx, DROP_ZONES[zone].rule, { title: notShippedTitle(zone), summary, evidence: iocEv });
    }
    return;
  }
  if ((zone === 'ecp-auth' || zone === 'aspnet_client') && ctx.name !== 'web.config') {
    const { rule, where } = DROP_ZONES[zone];
    add(ctx, rule, { title: `Unexpected file in ${where}`, severity: 'low', summary: `${ctx.shown}: not expected there`, evidence: iocEv });
    return;
  }
  if (ioc && !ioc.genuine) add(ctx, 'WS-05', { summary: `${ctx.shown}: ${ioc.what}`, evidence: iocEv });
  hafniumPaths(ctx);
}

function nameIoc(ctx: Ctx): { what: string; source: string; genuine: boolean } | null {
  const st = ctx.iocs;
  for (const [p, src] of st.paths) if (p.endsWith('\\' + ctx.win) || ctx.win.endsWith(src.tail)) return { what: `path ${p}`, source: src.source, genuine: false };
  const full = 'c:\\' + ctx.win;
  const re = st.pathRegexes.find((r) => r.re.test(full));
  if (re && ctx.script) return { what: `path pattern ${re.re.source}`, source: re.source, genuine: false };
  const byName = st.fileNames.get(ctx.name);
  if (byName) return { what: `file name ${ctx.name}`, source: byName.source, genuine: byName.genuine };
  return null;
}

/** PX-09: HAFNIUM staging paths and tool names (data/iocs/file_artefacts.csv path/substring/regex rows). */
function hafniumPaths(ctx: Ctx): void {
  const full = 'c:\\' + ctx.win;
  for (const a of ctx.iocs.artefacts) {
    const hit =
      (a.kind === 'path' && full.endsWith(a.lower)) ||
      (a.kind === 'substring' && full.includes(a.lower)) ||
      (a.kind === 'regex' && a.re !== null && a.re.test(full));
    if (hit) {
      add(ctx, 'PX-09', { summary: `${ctx.shown}: ${a.what}`, evidence: { ioc: a.value, ioc_source: a.source } });
      return;
    }
  }
}

// ---- dumps, archives, compiled pages ------------------------------------------------------------------------

function dumpAndArchiveChecks(ctx: Ctx, read: Read): void {
  const w = '\\' + ctx.win;
  if (read.minidump) {
    const lsass = ctx.name.includes('lsass') || read.found.has(PROBES.lsass.name);
    const staged = /\\(windows\\temp|inetpub|root|users\\public|perflogs)\\/.test(w) || (w.includes('\\programdata\\') && !w.includes('\\microsoft\\windows\\wer\\'));
    add(ctx, 'PX-07', {
      // The rule's title and severity are the lsass case; any other process's dump is graded by where it lies.
      ...(lsass ? {} : { title: 'Process memory dump', severity: staged ? 'high' : 'low' }),
      summary: `${ctx.shown}: minidump${lsass ? ' of lsass (lsasrv.dll loaded)' : ''}${staged ? ' in a staging folder' : ''}`,
      evidence: { lsass },
    });
  }
  const inProgramData = w.includes('\\programdata\\');
  const archiveExt = ctx.ext === '.7z' || ctx.ext === '.zip' || ctx.ext === '.rar';
  const archiveMagic = MAGIC.sevenZip(read.head) || MAGIC.rar(read.head) || (MAGIC.zip(read.head) && !ZIP_DOCS.has(ctx.ext));
  if (inProgramData && (archiveExt || archiveMagic)) {
    const after = w.slice(w.indexOf('\\programdata\\') + 13);
    const vendor = VENDOR_DIRS.find((v) => after.startsWith(v + '\\'));
    add(ctx, 'PX-08', {
      severity: vendor ? 'low' : 'medium',
      summary: `${ctx.shown}: ${archiveExt ? 'archive' : `archive content behind a ${ctx.ext || 'missing'} extension`}${vendor ? ` (vendor folder ${vendor}: usually routine)` : ''}`,
      evidence: { vendor_path: vendor ?? null, disguised: !archiveExt },
    });
  }
  if (TUNNEL_TOOLS.has(ctx.name) && (/\\(?:programdata|users\\public|inetpub)\\/.test(w) || ctx.zone !== null)) {
    add(ctx, 'PX-19', { summary: `${ctx.file.rel}: ${ctx.name}, a tunnelling or remote-access tool, where attackers stage tools` });
  }
  if (read.found.has(PROBES.appWeb.name))
    add(ctx, 'WS-09', { summary: `${ctx.shown}: compiled from a page under ~/aspnet_client/ or ~/auth/ — survives deletion of the .aspx` });
}

async function yaraChecks(ctx: Ctx, read: Read, rules: string, result: FileScanResult): Promise<void> {
  const r = await yaraScan(rules, ctx.file, read.all);
  if ('error' in r) {
    result.skipped.push({ path: ctx.file.rel, reason: `--yara: ${r.error}` });
    return;
  }
  for (const m of r.matches)
    add(ctx, 'YARA', { title: `YARA rule ${m}`, summary: `${ctx.shown}: YARA rule ${m} matched`, evidence: { yara_rule: m, yara_rules_file: rules } });
}
