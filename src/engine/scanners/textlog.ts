// Drives any line-oriented text log (Exchange CSV logs, IIS W3C ...) over big files: large chunks, a literal
// prefilter so that only lines containing a rule needle are decoded and parsed, exact physical line numbers.
import type { Coverage, Fact, LogRecord, RawFinding } from '../../model.js';
import { readChunks, readHead, readRange, withoutGz, type EvidenceFile } from '../../evidence/file.js';
import type { ByteRange } from '../ranges.js';
import { ParseError, type FormatFamily, type FormatSkip, type LineParser, type ParserOptions, type TextLogFormat } from '../../parsers/types.js';
import { iisBinaryLog } from '../../parsers/iis.js';
import type { FieldTest, RecordRule, RuleContext } from '../../rules/types.js';
import { applyRules } from '../../rules/finding.js';
import { BroadcastChannel } from 'node:worker_threads';
import { collectLines, NO_SUCH_FIELD, planData, planMultiFinder, SearchKernel, type MultiFinder, type PlanData, type ScannedText } from '../../search/multifind.js';
import { byteHistogram, compileNeedles, countNewlines, type NeedleSet } from '../../search/needles.js';
import { emptyResult, type FileContext, type FileScanResult, type Scanner } from '../types.js';
import { LineDispatcher, type FieldMasks } from '../../search/dispatch.js';
import { budgetReason } from '../budget.js';
import { headText, looksBinary, sniffEncoding, utf8BomLength, utf8Lines } from '../../parsers/text-encoding.js';
import { FindingGrouper } from '../group.js';

const NL = 10;
const HASH = 35;
/** A longer line is not parsed (reported); it is still counted. */
const MAX_LINE = 16 * 1024 * 1024;
const OVERSIZED = `line longer than ${MAX_LINE / 1024 / 1024} MiB: not parsed`;
/** How many lines at the start (and end) are read to learn the header and the first (last) record time. */
const EDGE_LINES = 50;
/** fieldSpan: the layout has no such field; the line's fields cannot be placed. */
const NO_FIELD = -1;
const NO_LAYOUT = -2;
/** The size of the pieces a chunk's lines are handled in (TextLogScan.pieces): well inside a core's L2 cache. */
const PIECE = 256 * 1024;
/** How much of a file is counted to choose each needle's rarest byte. */
const HISTOGRAM_BYTES = 1024 * 1024;

interface CompiledFormat {
  format: TextLogFormat;
  rules: RecordRule[];
  needles: NeedleSet;
  dispatch: LineDispatcher;
  /** The dispatcher's rules (`rules`, then the fact stand-in), and each one's tests by the same index (null: none). */
  all: RecordRule[];
  fieldTests: Array<FieldTest | null>;
  lineBytes: Array<NonNullable<RecordRule['lineBytes']> | null>;
  lineTests: Array<RegExp | null>;
  /** The index of the stand-in for the format's fact needles (its lines go to `parser.observe`), or -1. */
  factIndex: number;
  /**
   * The needle finder, planned from the byte frequencies of the first file of the format and kept for the next
   * ones: logs of one format look alike, and planning took 0.1–0.2 s a file (a day of IIS logs is many files).
   */
  finder: MultiFinder | null;
  /** The wasm instance the finders of this scanner's formats scan in (made on first use; null: no SIMD here). */
  kernel: () => SearchKernel | null;
  /** The format's plan shared between threads (see PlanShare), under `planKey`: the format and its needles. */
  plans: PlanShare;
  planKey: string;
  ctx: RuleContext;
}

/**
 * Finder plans shared with the other threads of the scan (a worker's scanner and this thread's): each thread planned
 * its own from its first file of a format, 80-120 ms of CPU per format and thread, mostly in code not yet optimised.
 * The first thread to plan posts its plan as data; the others take it when they come to that format. Keyed by the
 * format and its needles (IOC files add needles): a plan is only for the same needles. A plan made from another
 * thread's text of the same format serves as well, and only speed depends on it: matches are verified exactly.
 * A worker opens its own before it builds its rule set (worker.ts), so that a plan posted meanwhile reaches it.
 */
export class PlanShare {
  /** Plans posted by other threads, and by this one (re-posted to a thread that opens later). */
  private readonly got = new Map<string, PlanData>();
  private readonly own = new Map<string, PlanData>();
  private channel: BroadcastChannel | null = null;

  /**
   * Listens from now on, and asks the threads already scanning for their plans (a message reaches only the channels
   * open when it is posted: a worker opens its own after this thread planned). The channel keeps no process alive.
   */
  open(): this {
    this.channel = new BroadcastChannel(PLAN_CHANNEL);
    this.channel.onmessage = (e: unknown) => {
      const m = (e as { data?: { key?: unknown; plan?: PlanData; ask?: boolean } }).data;
      if (m?.ask === true) for (const [key, plan] of this.own) this.channel?.postMessage({ key, plan });
      else if (typeof m?.key === 'string' && m.plan && !this.got.has(m.key)) this.got.set(m.key, m.plan);
    };
    this.channel.unref();
    this.channel.postMessage({ ask: true });
    return this;
  }

  take(key: string): PlanData | undefined {
    return this.got.get(key);
  }

  post(key: string, plan: PlanData): void {
    this.own.set(key, plan);
    this.channel?.postMessage({ key, plan });
  }

  /** Stops listening and answering (a scan's end: each scan of a process opened one). */
  close(): void {
    this.channel?.close();
    this.channel = null;
  }
}

/** The channel of PlanShare (exported for tests). */
export const PLAN_CHANNEL = 'exhunt:textlog-finder-plans';

/** `rules`: the record rules that read this format (already filtered by format id). */
function compile(format: TextLogFormat, rules: RecordRule[], ctx: RuleContext, kernel: () => SearchKernel | null, plans: PlanShare): CompiledFormat {
  const factRule: RecordRule | null = format.factNeedles?.length
    ? { id: `${format.id}:facts`, title: '', cves: [], severity: 'info', kind: 'exposure', references: [], description: '', formats: [format.id], needles: format.factNeedles, match: () => null }
    : null;
  const all = factRule ? [...rules, factRule] : rules;
  const needles = compileNeedles(all);
  return {
    format,
    rules,
    needles,
    dispatch: new LineDispatcher(all),
    all,
    fieldTests: all.map((r) => r.fieldTest ?? null),
    lineBytes: all.map((r) => r.lineBytes ?? null),
    lineTests: all.map((r) => r.lineTest ?? null),
    factIndex: factRule ? all.length - 1 : -1,
    finder: null,
    kernel,
    plans,
    planKey: `${format.id}\n${JSON.stringify(needles.needles)}`,
    ctx,
  };
}

/** Usual names of the logs this scanner reads: one that turns out binary is named in skipped, not ignored. */
const LOG_NAME = /^(u_ex|u_in|ex\d{6}|httpproxy_|ecpserver|ecpactivity|oabgenerator|rpscmdlet|rps_cmdlet)[^/]*\.log$/i;

function looksLikeLogName(rel: string): boolean {
  return LOG_NAME.test(withoutGz(rel.slice(rel.lastIndexOf('/') + 1)));
}

/**
 * A scanner for a set of text-log formats and the record rules (of one rule set) that read them. `plans`: the
 * thread's plan channel, opened by the caller (default: opened now); the scanner's `close` closes it.
 */
export function textLogScanner(formats: readonly TextLogFormat[], rules: readonly RecordRule[], ctx: RuleContext, plans: PlanShare = new PlanShare().open()): Scanner {
  // Compiled once per format: the rules and their needles are fixed for this scanner (one per rule set).
  const compiled = new Map<string, CompiledFormat>();
  let kernel: SearchKernel | null | undefined;
  const sharedKernel = (): SearchKernel | null => (kernel === undefined ? (kernel = SearchKernel.create()) : kernel);
  const compiledFor = (f: TextLogFormat): CompiledFormat => {
    let c = compiled.get(f.id);
    if (!c) compiled.set(f.id, (c = compile(f, rules.filter((r) => r.formats.includes(f.id)), ctx, sharedKernel, plans)));
    return c;
  };
  const byId = new Map(formats.map((f) => [f.id, f]));
  return {
    name: 'textlog',
    classify(file, head) {
      const ibl = iisBinaryLog(file.rel);
      if (ibl !== null) return { skip: ibl, unread: true };
      if (head.length === 0) return null;
      const enc = sniffEncoding(head);
      const binary = enc === 'utf8' ? looksBinary(head) : null;
      if (binary) {
        if (!looksLikeLogName(file.rel)) return null;
        return { skip: `named like a text log but binary (${binary.nul} NUL and ${binary.control} other control bytes in the first ${binary.of}): not read as a log`, unread: true };
      }
      const text = headText(head, enc);
      let skip: FormatSkip | null = null;
      const answers = new Map<FormatFamily, string | null>();
      const ask = (family: FormatFamily) => {
        if (!answers.has(family)) answers.set(family, family(text, file.rel));
        return answers.get(family);
      };
      for (const f of formats) {
        const d = f.family ? ask(f.family) === f.id : f.detect(text, file.rel);
        if (d === true) return f.id;
        if (typeof d === 'object' && skip === null) skip = d;
      }
      return skip === null ? null : skip.unread ? { skip: skip.reason, unread: true } : { skip: skip.reason };
    },
    ranges: true,
    close: () => plans.close(),
    async scan(file, format, options, _rules, context = {}) {
      const { range, head: start } = context;
      const f = byId.get(format);
      if (!f) throw new Error(`unknown text log format ${format}`);
      if (range === undefined || file.kind !== 'fs') return new TextLogScan(file, compiledFor(f), undefined, context, options).run();
      const head = start?.bytes ?? (await readHead(file));
      // Byte ranges are cut at LF bytes, which UTF-16 text does not have alone: its first range reads it all.
      if (sniffEncoding(head) !== 'utf8') return range.index === 0 ? new TextLogScan(file, compiledFor(f), undefined, context, options).run() : emptyResult();
      // A later range assumes the head's #Fields unless told the one really in force (engine/ranges.ts).
      const fields = range.index === 0 ? null : range.fields ?? f.headerLine?.(headText(head, 'utf8')) ?? headFields(head);
      return new TextLogScan(file, compiledFor(f), { range, fields }, context, options).run();
    },
  };
}

/** The last `#Fields` directive of a file's header block (before its first record), or null. */
function headFields(head: Buffer): string | null {
  let fields: string | null = null;
  for (const l of headText(head, 'utf8').split('\n')) {
    if (l === '') continue;
    if (!l.startsWith('#')) break;
    if (l.startsWith('#Fields')) fields = l;
  }
  return fields;
}

/**
 * The state of one file's scan (or of one range of it). Lines are handled strictly in file order (a `#Fields`
 * change applies after it).
 */
class TextLogScan {
  private readonly parser: LineParser;
  private readonly result: FileScanResult = emptyResult();
  /** Line feeds seen before `countedTo` in the current region. */
  private lineNo = 0;
  private countedTo = 0;
  private directives = 0;
  private nonRecords = 0;
  private first: string | null = null;
  private last: string | null = null;
  private edgeLeft = EDGE_LINES;
  private bad = 0;
  private firstBad: { line: number; reason: string } | null = null;
  /** The last region read: its buffer is the read chunk's, valid until the next chunk is read into it. */
  private tail: Buffer | null = null;
  /** The last record time of the latest chunk read (its buffer is then read into). */
  private tailTime: string | null = null;
  private atFileStart = true;
  /**
   * The rules that still want the current line (indices into the format's rules, the first `matched` of a line):
   * pushing rules into an array that is empty on most lines changed its map in the middle of a scan, and the
   * optimised code of `handle` was thrown away and compiled again (the compiles run per worker).
   */
  private readonly matching: Int32Array;
  /** The current line's findings, handed to `found` at once: a flood is counted as it is read, never held. */
  private readonly hits: RawFinding[] = [];
  private readonly found: FindingGrouper;

  /** Why the scan stopped early (the per-file time limit), or null. */
  private stopped: string | null = null;
  private linesAtStop = 0;
  /** The last #Fields directive seen (for a range's report). */
  private lastFields: string | null = null;
  /** Where the rules' needles must be, for the current field layout (null: anywhere). */
  private fieldMasks: FieldMasks | null = null;
  /** The current field layout's names (null: the format has no plain separator), and the indices asked for. */
  private fieldNames: readonly string[] | null = null;
  private readonly fieldIndex = new Map<string, number>();
  /** Where the field of the last fieldSpan ends, and whether it is ASCII without `%` (FieldTest.plain). */
  private fieldEnd = 0;
  private fieldPlain = false;
  /** The current region from `from` on, as the finder's SIMD pass copied it (null: none). */
  private scanned: { text: ScannedText; from: number } | null = null;

  constructor(
    private readonly file: EvidenceFile,
    private readonly c: CompiledFormat,
    /** One range of the file, and the #Fields line to start from (null: none, as at the file's start). */
    private readonly part: { range: ByteRange; fields: string | null } | undefined,
    /** The per-file time limit and the thread's read buffers. */
    private readonly context: Pick<FileContext, 'budget' | 'buffers' | 'head'>,
    options: ParserOptions = {},
  ) {
    this.parser = c.format.createParser(file.rel, options);
    this.matching = new Int32Array(c.all.length);
    this.found = new FindingGrouper(file);
    if (part && part.range.index > 0) {
      this.atFileStart = false;
      if (part.fields !== null) this.parser.directive(part.fields, 0);
    }
    this.layoutChanged();
  }

  private layoutChanged(): void {
    const sep = this.c.format.fieldSeparator;
    const names = this.parser.fieldNames?.();
    this.fieldMasks = sep === undefined || names === undefined ? null : this.c.dispatch.fieldMasks(names, sep);
    this.fieldNames = sep === undefined || names === undefined ? null : names;
    this.fieldIndex.clear();
  }

  /**
   * Whether `line` passes a rule's field test: the field is cut out of the line without parsing it, a plain one's
   * bytes tried first. A line whose field count does not match the layout (or with no layout) passes: its fields cannot be placed.
   */
  private fieldPasses(t: FieldTest, buf: Buffer, start: number, stop: number): boolean {
    const at = this.fieldSpan(t.field, buf, start, stop);
    if (at === NO_LAYOUT) return true;
    if (at === NO_FIELD) return t.test('', this.c.ctx);
    if (t.plain !== undefined && this.fieldPlain && !t.plain(buf, at, this.fieldEnd, this.c.ctx)) return false;
    // Decoded alone: UTF-8 cut at an ASCII separator decodes as that part of the decoded line.
    return t.test(buf.toString('utf8', at, this.fieldEnd), this.c.ctx);
  }

  /**
   * The text of `field` on the line `buf[start, stop)` ('' when the layout has no such field), cut out of the bytes
   * without decoding the line; null when the line's field count does not match the layout (or there is none).
   */
  private fieldText(field: string, buf: Buffer, start: number, stop: number): string | null {
    const at = this.fieldSpan(field, buf, start, stop);
    return at === NO_LAYOUT ? null : at === NO_FIELD ? '' : buf.toString('utf8', at, this.fieldEnd);
  }

  /**
   * Where `field` starts on the line `buf[start, stop)` (it ends at `fieldEnd`); NO_FIELD when the layout has no such
   * field, NO_LAYOUT when the line's field count does not match the layout (or there is none).
   */
  private fieldSpan(field: string, buf: Buffer, start: number, stop: number): number {
    const names = this.fieldNames;
    const masks = this.fieldMasks;
    if (names === null || masks === null || this.c.dispatch.separators() + 1 !== names.length) return NO_LAYOUT;
    let k = this.fieldIndex.get(field);
    if (k === undefined) this.fieldIndex.set(field, (k = names.indexOf(field)));
    if (k < 0) return NO_FIELD;
    // The line has exactly names.length - 1 separators (the dispatcher counted them): field k is after the k-th.
    // Bounded all the same: should the count and the bytes ever disagree, the line passes (a field test may only
    // let a line through, never read past it).
    const sep = masks.sep;
    // Found in the finder's wasm copy when there is one (one SIMD pass, not a JS walk of ~2 ns a byte to the field).
    const s = this.scanned;
    const at = s === null ? -1 : s.text.field(start - s.from, stop - s.from, sep, k);
    if (at === NO_SUCH_FIELD) return NO_LAYOUT;
    if (at >= 0) {
      this.fieldEnd = s!.text.fieldEnd() + s!.from;
      this.fieldPlain = s!.text.fieldPlain();
      return at + s!.from;
    }
    let from = start;
    for (let i = 0; i < k; i++) {
      while (from < stop && buf[from] !== sep) from++;
      if (from >= stop) return NO_LAYOUT;
      from++;
    }
    let to = from;
    let plain = true;
    for (; to < stop; to++) {
      const c = buf[to];
      if (c === sep) break;
      if (c >= 0x80 || c === 37) plain = false;
    }
    this.fieldEnd = to;
    this.fieldPlain = plain;
    return from;
  }

  async run(): Promise<FileScanResult> {
    let carry: Buffer | null = null;
    let oversized = false;
    const p = this.part;
    // UTF-8 with LF line ends from here on (parsers/text-encoding.ts); a range is UTF-8 (UTF-16 is read whole).
    const chunks =
      p && this.file.kind === 'fs'
        ? utf8Lines(readRange(this.file, p.range.start, p.range.end, this.context.buffers), 'utf8')
        : utf8Lines(readChunks(this.file, undefined, { reuse: this.context.buffers, start: this.context.head }));
    const reader = chunks[Symbol.asyncIterator]();
    for (;;) {
      const chunk = await this.nextChunk(reader);
      if (chunk === null) break;
      // Between chunks, before the next one: a file read to its end is never partial.
      if (this.result.bytes > 0 && this.context.budget?.exceeded()) {
        await this.stop(chunk, chunks);
        carry = null;
        break;
      }
      this.result.bytes += chunk.length;
      let from = 0;
      if (carry !== null || oversized) {
        const nl = chunk.indexOf(NL);
        if (nl === -1) {
          if (!oversized && carry!.length + chunk.length > MAX_LINE) {
            this.noteBad(this.lineNo + 1, OVERSIZED);
            oversized = true;
            carry = null;
          } else if (!oversized) carry = Buffer.concat([carry!, chunk]);
          continue;
        }
        if (!oversized && carry!.length + nl > MAX_LINE) {
          this.noteBad(this.lineNo + 1, OVERSIZED);
          oversized = true;
        }
        if (oversized) {
          this.lineNo++;
          oversized = false;
        } else this.region(Buffer.concat([carry!, chunk.subarray(0, nl + 1)]));
        carry = null;
        from = nl + 1;
      }
      const lastNl = chunk.lastIndexOf(NL);
      if (lastNl >= from) this.pieces(chunk.subarray(from, lastNl + 1));
      const rest = chunk.subarray(Math.max(from, lastNl + 1));
      if (rest.length > MAX_LINE) {
        this.noteBad(this.lineNo + 1, OVERSIZED);
        oversized = true;
      } else if (rest.length) carry = Buffer.from(rest);
      // The chunk's buffer is read into again: its last record time is kept now, for when the file's last region
      // holds none (a log copied mid-write ends in a few bytes of a line; or in a lone CR).
      this.tailTime = this.lastTime() ?? this.tailTime;
      this.tail = null;
    }
    // A last line without a line feed (a log cut off mid-write) is still read; not one cut by a read error.
    if (carry !== null && carry.length && this.stopped === null) this.region(carry, true);
    return this.finish();
  }

  /**
   * The next chunk, or null at the end. A whole file whose data ends early or is damaged (a .gz or a zip entry cut
   * short: a copy interrupted, a rotation stopped while compressing) keeps what was read before: the records and
   * findings so far stand, the file is partial like one stopped by the time limit, and skipped says where and why.
   * A byte range cannot count the lines it did not read, so its error still stops the file.
   */
  private async nextChunk(reader: AsyncIterator<Buffer>): Promise<Buffer | null> {
    try {
      const r = await reader.next();
      return r.done ? null : r.value;
    } catch (err) {
      if (this.part) throw err;
      this.stopped = `reading stopped after the first ${this.lineNo} lines (${this.result.bytes} bytes${this.file.kind === 'fs' ? ` of ${this.file.size}` : ' decompressed'}): ${(err as Error).message}; the data ends early or is damaged (a copy cut short?), the rest is not read`;
      this.linesAtStop = this.lineNo;
      return null;
    }
  }

  /**
   * Stopped by the time limit before `next`: the lines read so far count; a partial last line is dropped, not
   * parsed. A range goes on counting line feeds only (cheap), so the ranges after it keep exact line numbers.
   */
  private async stop(next: Buffer, chunks: AsyncIterable<Buffer>): Promise<void> {
    const p = this.part;
    this.stopped = budgetReason(this.context.budget!, p
        ? `${this.lineNo} lines (${this.result.bytes} of ${p.range.end - p.range.start} bytes) of range ${p.range.index + 1}/${p.range.count}`
        : `the first ${this.lineNo} lines (${this.result.bytes} of ${this.file.size} bytes)`);
    this.linesAtStop = this.lineNo;
    if (!p) return;
    this.tail = null; // the read buffer is reused below
    this.lineNo += countNewlines(next, 0, next.length);
    let unterminated = next[next.length - 1] !== NL;
    for await (const rest of chunks) {
      this.lineNo += countNewlines(rest, 0, rest.length);
      unterminated = rest[rest.length - 1] !== NL;
    }
    if (unterminated) this.lineNo++;
  }

  /**
   * Handles a run of complete lines in pieces of about PIECE bytes cut at line feeds, once the format's finder is
   * planned (the first region is its sample, whole). A piece, its copy in the kernel's memory and the candidate
   * lines read back from both stay in the core's L2 cache; a 4 MiB chunk does not, and each candidate line was then
   * fetched twice from farther away.
   */
  private pieces(buf: Buffer): void {
    let from = 0;
    while (this.c.finder !== null && buf.length - from > PIECE) {
      let nl = buf.lastIndexOf(NL, from + PIECE - 1);
      if (nl < from) nl = buf.indexOf(NL, from + PIECE);
      if (nl === -1 || nl === buf.length - 1) break;
      this.region(buf.subarray(from, nl + 1));
      from = nl + 1;
    }
    this.region(from === 0 ? buf : buf.subarray(from));
    // The last record time is read back from the end of the whole run, as when it was one region.
    this.tail = buf;
  }

  /** Handles a run of complete lines (each ends with LF, except a final unterminated one). */
  private region(buf: Buffer, unterminated = false): void {
    this.countedTo = 0;
    this.scanned = null;
    let pos = 0;
    if (this.atFileStart) {
      this.atFileStart = false;
      pos = utf8BomLength(buf);
      this.countedTo = pos;
    }
    // The first lines are always read: they carry the header and the first record time.
    while (this.edgeLeft > 0 && pos < buf.length) {
      const end = lineEnd(buf, pos);
      this.handle(buf, pos, end, this.lineNo + 1, true);
      if (end < buf.length) this.lineNo++;
      pos = end + 1;
      this.countedTo = pos;
    }
    if (pos < buf.length) {
      const lines = this.eventLines(buf, pos);
      // The lines the finder's SIMD pass found come numbered, with their ends (ScannedText.lines): the others
      // (directives, needles searched apart) are counted from the line before.
      const s = this.lastScanned();
      const atPos = this.lineNo;
      const found = s === null ? 0 : s.text.found;
      const numbered = s === null ? null : s.text.lines;
      let k = 0;
      for (const ls of lines) {
        if (ls < this.countedTo) continue;
        while (k < found && numbered![3 * k] + pos < ls) k++;
        let end: number;
        if (k < found && numbered![3 * k] + pos === ls) {
          this.lineNo = atPos + numbered![3 * k + 2];
          end = numbered![3 * k + 1] + pos;
        } else {
          this.lineNo += this.newlines(buf, this.countedTo, ls);
          end = this.lineEnd(buf, ls);
        }
        this.handle(buf, ls, end, this.lineNo + 1, false);
        if (end < buf.length) this.lineNo++;
        this.countedTo = end + 1;
      }
      if (s !== null) this.lineNo = atPos + s.text.newlines;
      else if (this.countedTo < buf.length) this.lineNo += this.newlines(buf, this.countedTo, buf.length);
    }
    if (unterminated) this.lineNo++;
    this.tail = buf;
  }

  /**
   * The finder's SIMD pass over the current region (set by eventLines), or null. A method: region() resets
   * `this.scanned` before eventLines() sets it, and TypeScript would take a direct read after that for null.
   */
  private lastScanned(): { text: ScannedText; from: number } | null {
    return this.scanned;
  }

  /** Line feeds in `buf[from, to)`: counted in the finder's wasm copy when there is one (one SIMD pass, not an indexOf per line). */
  private newlines(buf: Buffer, from: number, to: number): number {
    const s = this.scanned;
    const n = s === null ? -1 : s.text.count(from - s.from, to - s.from, NL);
    return n >= 0 ? n : countNewlines(buf, from, to);
  }

  /** The end of the line at `from` (its line feed, or the end of `buf`): found in the finder's wasm copy when there is one. */
  private lineEnd(buf: Buffer, from: number): number {
    const s = this.scanned;
    const e = s === null || from < s.from ? -1 : s.text.indexOf(from - s.from, buf.length - s.from, NL);
    return e >= 0 ? e + s!.from : lineEnd(buf, from);
  }

  /** Starts of the lines worth decoding: directives, and lines with a needle. Sorted, unique. */
  private eventLines(buf: Buffer, from: number): number[] {
    const view = from === 0 ? buf : buf.subarray(from);
    const starts: number[] = [];
    if (this.c.needles.everyLine) {
      for (let p = 0; p < view.length; p = lineEnd(view, p) + 1) starts.push(p);
    } else {
      const c = this.c;
      let planned = false;
      if (c.finder === null) {
        const hist = byteHistogram(view.subarray(0, Math.min(view.length, HISTOGRAM_BYTES)));
        const plan = c.plans.take(c.planKey);
        c.finder = planMultiFinder(c.needles.needles, hist, { kernel: c.kernel(), plan });
        c.dispatch.shareFinder(c.finder);
        planned = plan === undefined;
      }
      const text = collectLines(c.finder, view, starts);
      // Planned here by the search: offered to the other threads.
      const data = planned ? planData(c.finder) : null;
      if (data !== null) c.plans.post(c.planKey, data);
      if (text !== null) this.scanned = { text, from };
      // Directives: a `#` at a line start. Found by the byte (memchr: rare inside log lines), not by the pair "\n#",
      // whose Buffer#indexOf stops at every line feed (~2% of a busy IIS scan); after the SIMD pass, which copied the
      // piece and so brought it into cache (before it, this memchr paid for that first read: ~3% of the scan).
      for (let p = view.indexOf(HASH); p !== -1; p = view.indexOf(HASH, p + 1)) if (p === 0 || view[p - 1] === NL) starts.push(p);
    }
    starts.sort((a, b) => a - b);
    const out: number[] = [];
    let prev = -1;
    for (const s of starts) if (s !== prev) out.push((prev = s) + from);
    return out;
  }

  private handle(buf: Buffer, start: number, end: number, lineNo: number, edge: boolean): void {
    let stop = end;
    if (stop > start && buf[stop - 1] === 13) stop--;
    if (buf[start] === HASH) {
      this.directives++;
      const text = buf.toString('utf8', start, stop);
      if (text.startsWith('#Fields')) this.lastFields = text;
      this.parser.directive(text, lineNo);
      this.layoutChanged();
      return;
    }
    if (stop === start) {
      this.nonRecords++;
      return;
    }
    // Decoded only when `observe`, a line test or the parser reads the text: field tests read their field's bytes.
    let line: string | null = null;
    // One pass over the dispatched rules: the fact stand-in feeds `observe`, a rule's field and line tests may drop
    // the line (the field test first: it is the cheaper; then the line's bytes, then the line test on its text).
    const matching = this.matching;
    let matched = 0;
    // Rules of one family share their tests (the eight autodiscover.json grades): each runs once per line.
    let tested: RegExp | null = null;
    let passed = false;
    let bytesTested: RecordRule['lineBytes'] | null = null;
    let bytesPassed = false;
    let fieldTested: FieldTest | null = null;
    let fieldPassed = false;
    const c = this.c;
    // The line where the finder's pass copied it: the dispatcher reads it there.
    const s = this.scanned;
    const n = c.dispatch.dispatch(buf, start, stop, this.fieldMasks, s === null ? -1 : s.text.address(start - s.from));
    const ids = c.dispatch.ruleIds;
    for (let k = 0; k < n; k++) {
      const i = ids[k];
      if (i === c.factIndex) {
        this.observe(buf, start, stop, lineNo, line);
        continue;
      }
      const ft = c.fieldTests[i];
      if (ft !== null) {
        if (ft !== fieldTested) {
          fieldTested = ft;
          fieldPassed = this.fieldPasses(ft, buf, start, stop);
        }
        if (!fieldPassed) continue;
      }
      const lb = c.lineBytes[i];
      if (lb !== null) {
        if (lb !== bytesTested) {
          bytesTested = lb;
          bytesPassed = lb(buf, start, stop);
        }
        if (!bytesPassed) continue;
      }
      const lt = c.lineTests[i];
      if (lt !== null) {
        if (lt !== tested) {
          tested = lt;
          passed = lt.test((line ??= buf.toString('utf8', start, stop)));
        }
        if (!passed) continue;
      }
      matching[matched++] = i;
    }
    // Edge lines are always parsed (header and first time); others only when a rule still wants them.
    if (!edge && matched === 0) return;
    const rec = this.parse((line ??= buf.toString('utf8', start, stop)), lineNo);
    if (edge && rec !== null && rec.time !== null) {
      this.first ??= rec.time;
      this.edgeLeft = 0;
    } else if (edge) this.edgeLeft--;
    if (rec === null) return;
    this.seen(rec.time);
    if (matched !== 0) {
      try {
        applyRules(Array.from(matching.subarray(0, matched), (i) => c.all[i]), rec, this.hits, c.ctx);
      } catch (err) {
        this.noteBad(lineNo, `rule error: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const f of this.hits) this.found.add(f);
      this.hits.length = 0;
    }
  }

  /** Feeds a fact line to the parser: only its observed field when the parser reads one and the line's fields can be placed. */
  private observe(buf: Buffer, start: number, stop: number, lineNo: number, line: string | null): void {
    const p = this.parser;
    if (line === null && p.observedField !== undefined && p.observeField !== undefined) {
      const value = this.fieldText(p.observedField, buf, start, stop);
      if (value !== null) return p.observeField(value, lineNo);
    }
    p.observe?.(line ?? buf.toString('utf8', start, stop), lineNo);
  }

  private parse(line: string, lineNo: number): LogRecord | null {
    try {
      const rec = this.parser.parse(line, lineNo);
      if (rec === null) this.nonRecords++;
      return rec;
    } catch (err) {
      this.nonRecords++;
      if (!(err instanceof ParseError)) throw err;
      this.noteBad(lineNo, err.message);
      return null;
    }
  }

  private seen(time: string | null): void {
    if (time === null) return;
    if (this.first === null || time < this.first) this.first = time;
    if (this.last === null || time > this.last) this.last = time;
  }

  private noteBad(line: number, reason: string): void {
    this.bad++;
    this.firstBad ??= { line, reason };
  }

  /** The last record time: read backwards from the end of the last region. */
  private lastTime(): string | null {
    const buf = this.tail;
    if (!buf) return null;
    let end = buf.length;
    if (buf[end - 1] === NL) end--;
    for (let i = 0; i < EDGE_LINES && end > 0; i++) {
      const start = buf.lastIndexOf(NL, end - 1) + 1;
      let stop = end;
      if (stop > start && buf[stop - 1] === 13) stop--;
      if (stop > start && buf[start] !== HASH) {
        try {
          const rec = this.parser.parse(buf.toString('utf8', start, stop), 0);
          if (rec?.time) return rec.time;
        } catch {
          // A cut-off last line: try the one before.
        }
      }
      if (start === 0) break;
      end = start - 1;
    }
    return null;
  }

  private finish(): FileScanResult {
    // The last region's, else the latest chunk's: not the newest of every chunk, so a log whose clock went back gives
    // the same `last` however it is cut into chunks and ranges.
    const last = this.lastTime() ?? this.tailTime;
    if (last !== null && (this.last === null || last > this.last)) this.last = last;
    const records = Math.max(0, (this.stopped === null ? this.lineNo : this.linesAtStop) - this.directives - this.nonRecords);
    const noQuery = this.parser.queryUnlogged?.() === true;
    const source = this.c.format.coverageSource(this.file.rel);
    const coverage: Coverage = {
      // Its own row: a merged row must not let logged queries in one file vouch for another that has none.
      source: noQuery ? `${source} (no query string logged)` : source,
      format: this.c.format.id,
      files: 1,
      records,
      first: this.first,
      last: this.last,
    };
    if (noQuery) coverage.query_unlogged = true;
    if (this.stopped !== null) {
      coverage.partial = [this.file.rel];
      this.result.skipped.push({ path: this.file.rel, line: this.linesAtStop + 1, reason: this.stopped });
    }
    this.result.coverage.push(coverage);
    Object.assign(this.result, this.found.parts());
    if (this.part) this.result.range = { lines: this.lineNo, fieldsIn: this.part.fields, lastFields: this.lastFields };
    if (this.bad > 0 && this.firstBad) {
      const more = this.bad > 1 ? ` (${this.bad} lines in all)` : '';
      this.result.skipped.push({ path: this.file.rel, line: this.firstBad.line, reason: `${this.firstBad.reason}${more}` });
    }
    // Said once per file: by its first range.
    if (!this.part || this.part.range.index === 0) for (const reason of this.parser.notes?.() ?? []) this.result.skipped.push({ path: this.file.rel, reason });
    for (const f of this.parser.facts?.() ?? []) {
      const fact: Fact = { kind: f.kind, value: f.value, origin: f.origin, source: { path: this.file.rel, line: f.line }, time: f.time ?? this.first };
      this.result.facts.push(fact);
    }
    return this.result;
  }
}

function lineEnd(buf: Buffer, from: number): number {
  const e = buf.indexOf(NL, from);
  return e === -1 ? buf.length : e;
}
