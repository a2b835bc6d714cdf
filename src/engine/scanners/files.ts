// The file sweep: every evidence file that is not a log is hashed (streamed), checked against the known-good hash
// lists and — when it is a web script or small — decoded; the file rules (src/rules/files/sweep.ts) then decide
// from its path, head bytes, probes and text what to report. Optional YARA rules run over the same files.
// Only reading, hashing and turning rule hits into findings happen here.
import { createHash } from 'node:crypto';
import type { EvidenceValue, RawFinding } from '../../model.js';
import type { IocStore } from '../../rules/iocs.js';
import { CHUNK_SIZE, lendStart, readChunks, type EvidenceFile } from '../../evidence/file.js';
import { toWinLower } from '../../evidence/paths.js';
import { peFileVersion } from '../../parsers/pe.js';
import { checkBaseline, exchangeRelPath, type BaselineVerdict } from '../../rules/files/baselines.js';
import { FileContent, LiteralFinder, MAGIC } from '../../rules/files/content.js';
import { yaraScan } from '../yara.js';
import { FILE_RULES, yaraRule } from '../../rules/files/rules.js';
import { gradedFinding } from '../../rules/finding.js';
import {
  WEB_SCRIPT, contentRules, dropZone, dumpAndArchiveRules, hashRule, pathRules, probesFor, type FileRuleHit, type Probe, type SweptFile,
} from '../../rules/files/sweep.js';
import { emptyResult, type FileContext, type FileScanResult, type ScanOptions, type Scanner } from '../types.js';

/** Files up to this size are read whole (hash + content); larger ones are streamed. */
const SMALL = 4 * 1024 * 1024;
/** Content signatures run on web scripts up to SMALL, and on any other file up to this size. */
const SMALL_OTHER = 1024 * 1024;
/** Logs and event logs belong to the text-log and EVTX scanners. */
const NOT_SWEPT = new Set(['.log', '.evtx', '.etl']);

/** The file sweep of one thread (its content signatures' byte pass is planned once per thread). */
export function fileSweepScanner(): Scanner {
  const finder = new LiteralFinder();
  return {
    name: 'files',
    classify(file) {
      if (file.role === 'collection-metadata') return null;
      const ext = extOf(file.rel);
      // Exchange writes no logs into its web folders: a `.log` there is an attacker's file (a credential dump such
      // as owa\auth\Current\google.log, a web shell's output) and is swept like any other file.
      return !NOT_SWEPT.has(ext) || (ext === '.log' && dropZone(winRel(file.server ?? file.rel)) !== null) ? 'file' : null;
    },
    scan: (file, _format, options, rules, context) => sweepFile(file, options, rules.context.iocs, context, finder),
  };
}

/** Drive-less lower-case Windows path, like a relative evidence path: what the path rules read. */
export function winRel(shown: string): string {
  return toWinLower(shown).replace(/^[a-z]:\\/, '');
}

function extOf(rel: string): string {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** What one file's rules need to know, gathered once, and where its findings go. */
interface Ctx extends Omit<SweptFile, 'bytes' | 'head' | 'minidump' | 'found'> {
  file: EvidenceFile;
  out: RawFinding[];
  base: Record<string, EvidenceValue>;
}

/** Reports the hits of the file rules (src/rules/files/sweep.ts) as findings. */
function report(ctx: Ctx, hits: readonly FileRuleHit[]): void {
  for (const { rule, hit } of hits) {
    const meta = typeof rule === 'string' ? FILE_RULES[rule] : rule;
    ctx.out.push(gradedFinding(meta, hit.grade, 'Files', {
      time: null,
      client_ip: null,
      source: { path: ctx.file.rel },
      summary: hit.summary,
      evidence: { ...ctx.base, ...hit.evidence },
    }));
  }
}

/** Path rules, with a name IOC added to the findings other rules made for this file instead of a second finding. */
function reportPath(ctx: Ctx, swept: SweptFile, bl: BaselineVerdict, iocs: IocStore): void {
  const own = ctx.out.filter((f) => f.source.path === ctx.file.rel);
  const { hits, attach } = pathRules(swept, bl, iocs, own.length > 0);
  for (const f of own) Object.assign(f.evidence, attach);
  report(ctx, hits);
}

/**
 * `context.head`: the file's start as already read; when it is the whole file, the file is not read again.
 * `finder`: the thread's byte pass for the content signatures (without one, their literals are tested on the text).
 */
export async function sweepFile(file: EvidenceFile, options: ScanOptions, iocs: IocStore, context: FileContext = {}, finder: LiteralFinder | null = null): Promise<FileScanResult> {
  const result = emptyResult();
  const shown = file.server ?? file.rel;
  const win = winRel(shown);
  const ext = extOf(shown.replace(/\\/g, '/'));
  const ctx: Ctx = {
    file,
    shown,
    win,
    name: win.slice(win.lastIndexOf('\\') + 1),
    ext,
    script: WEB_SCRIPT.has(ext),
    zone: dropZone(win),
    out: result.findings,
    // No file time: a copy's times are the copy date. A case manifest's recorded times are added by scan.ts.
    base: { file: shown, sha256: null, size: file.size },
  };
  const exRel = exchangeRelPath(shown);
  let read: Read;
  try {
    read = await readFile(file, probesFor(ctx), context);
  } catch (err) {
    result.skipped.push({ path: file.rel, reason: `not readable, checked by path only: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, unread: 'file' });
    reportPath(ctx, { ...ctx, bytes: file.size, head: Buffer.alloc(0), minidump: false, found: new Set() }, { status: 'unknown-path' }, iocs);
    return result;
  }
  // The file's bytes may be the thread's buffer (a small file read whole): given back once the rules are done.
  try {
    result.bytes = read.bytes;
    ctx.base.sha256 = read.sha256;
    const swept: SweptFile = { ...ctx, bytes: read.bytes, head: read.head, minidump: read.minidump, found: read.found };
    // A copied ExSetup.exe's file version is the server's full build (SU included): a fact for EXP-01.
    const build = ctx.name === 'exsetup.exe' && read.all ? peFileVersion(read.all) : null;
    if (build) result.facts.push({ kind: 'build', value: build, source: { path: file.rel }, time: null, origin: 'ExSetup.exe' });
    report(ctx, hashRule(swept, read.sha256, iocs));
    const bl: BaselineVerdict = exRel ? checkBaseline(exRel, read.sha256) : { status: 'unknown-path' };
    if (bl.status === 'known') return result; // Microsoft's own file, byte for byte
    // Content is decoded for web scripts up to SMALL and other files up to SMALL_OTHER, never for PE files or dumps.
    const scanText = read.all !== null && (ctx.script || read.bytes <= SMALL_OTHER) && !MAGIC.pe(read.head) && !read.minidump;
    report(ctx, contentRules(swept, scanText && read.all !== null ? new FileContent(read.all, finder) : null, bl));
    reportPath(ctx, swept, bl, iocs);
    report(ctx, dumpAndArchiveRules(swept, file.rel));
    if (options.yaraRules) await yaraChecks(ctx, read, options.yaraRules, result);
  } finally {
    read.release?.();
  }
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
  /** Gives back the thread's buffer that `all` and `head` are views of (a small file read whole). */
  release?: () => void;
}

async function readFile(file: EvidenceFile, probes: Probe[], { head: start, buffers }: FileContext): Promise<Read> {
  // A small file is held whole: the start as classified when it was all of it (most web files), else read with
  // blocking calls like the start (a thread sweeps one file at a time; a round trip through libuv's pool per open,
  // read and close cost more than the read). A file that grew past its listed size is streamed instead.
  const lent = !start?.whole && file.kind === 'fs' && file.size <= SMALL ? await lendStart(file, SMALL, buffers) : null;
  const small = start?.whole ? start : lent?.head;
  // Held in the thread's buffer (as the head is) until sweepFile is done with it.
  if (small?.whole) return { ...readWhole(small.bytes, probes), release: lent?.release };
  lent?.release();
  const hash = createHash('sha256');
  const found = new Set<string>();
  const parts: Buffer[] = [];
  let head: Buffer | null = null;
  let bytes = 0;
  let minidump = false;
  let tail = Buffer.alloc(0);
  const keep = Math.max(...probes.flatMap((p) => p.bytes.map((b) => b.length))) - 1;
  // Read into the thread's reused buffer (evidence/file.ts): what outlives a chunk is copied (the head, the small
  // file kept whole).
  for await (const chunk of readChunks(file, Math.min(CHUNK_SIZE, Math.max(64 * 1024, file.size + 1)), { reuse: buffers })) {
    hash.update(chunk);
    if (head === null) {
      head = Buffer.from(chunk.subarray(0, 64 * 1024));
      minidump = MAGIC.minidump(head);
    }
    if (bytes + chunk.length <= SMALL) parts.push(Buffer.from(chunk));
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

/** A file held whole (its own buffer: the head and `all` are views of it). */
function readWhole(bytes: Buffer, probes: Probe[]): Read {
  const head = bytes.subarray(0, 64 * 1024);
  const minidump = MAGIC.minidump(head);
  const found = new Set<string>();
  if (minidump || probes.length > 1) for (const p of probes) if (p.bytes.some((b) => bytes.includes(b))) found.add(p.name);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, head, minidump, all: bytes, found };
}

async function yaraChecks(ctx: Ctx, read: Read, rules: string, result: FileScanResult): Promise<void> {
  const r = await yaraScan(rules, ctx.file, read.all);
  if ('error' in r) {
    result.skipped.push({ path: ctx.file.rel, reason: `--yara: ${r.error}` });
    return;
  }
  report(ctx, r.matches.map((m) => ({ rule: yaraRule(m), hit: { summary: `${ctx.shown}: YARA rule ${m} matched`, evidence: { yara_rule: m, yara_rules_file: rules } } })));
}
