// Event logs saved as CSV (parsers/evtx/csv-export.ts): their events run through the same EVTX rules, with what CSV
// cannot give said in the report. Two passes: the first reads the time column of every row to decide day/month order
// (a row far down may contradict the first ones: then the order is unknown, said), the second reads the events.
//
// What a finding from CSV carries besides the rule's evidence: `event_time_as_written` (the time cell),
// `event_time_zone` (the zone given, the cell's own offset, or "unknown"; with a warning for a time in the hour
// repeated when summer time ends), `csv_row`; `source.line` is the row's first physical line. Its
// `time` is UTC only when the zone is given and the day/month order known, else null (never the local time as UTC).
import type { Coverage, RawFinding, Skipped } from '../../model.js';
import { readChunks, readHead, type EvidenceFile } from '../../evidence/file.js';
import { DateOrderVotes, detectEventCsv, readCsvEvents, voteDateOrder, zoneToUtc, type CsvEvent, type DateOrder, type EventCsvShape, type EvtxProblem } from '../../parsers/evtx/index.js';
import { applyRules } from '../../rules/finding.js';
import type { RuleSet } from '../../rules/ruleset.js';
import { emptyResult, type FileScanResult, type ScanOptions, type Scanner } from '../types.js';
import { budgetReason, type Budget } from '../budget.js';
import { FindingGrouper } from '../group.js';
import { toLogRecord } from './evtx.js';

const READ_BLOCK = 1024 * 1024;

/**
 * Rules that read event data a rendered message does not give back (parsers/evtx/rendered.ts maps MSExchange
 * CmdletLogs 1/6, PowerShell 4104, Sysmon, Security 4688 and Defender detections): what they need is not there,
 * and the report says so.
 */
const NOT_FROM_CSV = 'the caller of MSExchange Management cmdlets (not in the message), event data of other events, and Sigma rules (--rules) on such fields';

/** Per-channel counts; first/last in UTC when placed, and the local times as written. */
class CsvCoverage {
  readonly rows = new Map<string, Coverage>();
  firstLocal: string | null = null;
  /** The first and last rows' times as written, for a file whose dates cannot be read in order. */
  firstRaw = '';
  lastRaw = '';
  lastLocal: string | null = null;
  placed = 0;
  /** Placed by the offset in their own cell, not by the zone given. */
  placedByCell = 0;
  /** Placed by the zone given, in the hour it repeats when summer time ends. */
  repeatedHour = 0;
  unplaced = 0;
  unreadTime = 0;
  noMessage = 0;

  /** With the order known, a time not read is one of another shape or one that does not fit the order. */
  constructor(private readonly orderKnown: boolean) {}

  add(e: CsvEvent): void {
    const source = `EVTX ${e.channel || (e.provider ? `source ${e.provider}` : 'unknown channel')} (saved as CSV)`;
    let c = this.rows.get(source);
    if (!c) this.rows.set(source, (c = { source, format: 'evtx', files: 1, records: 0, first: null, last: null }));
    c.records++;
    if (e.localTime) {
      this.firstRaw ||= e.localTime;
      this.lastRaw = e.localTime;
    }
    if (e.noMessage) this.noMessage++;
    if (e.time) {
      this.placed++;
      if (e.cellOffset !== null) this.placedByCell++;
      if (e.repeatedHour) this.repeatedHour++;
      if (c.first === null || e.time < c.first) c.first = e.time;
      if (c.last === null || e.time > c.last) c.last = e.time;
    } else this.unplaced++;
    if (e.localIso) {
      if (this.firstLocal === null || e.localIso < this.firstLocal) this.firstLocal = e.localIso;
      if (this.lastLocal === null || e.localIso > this.lastLocal) this.lastLocal = e.localIso;
    } else if (this.orderKnown) this.unreadTime++;
  }
}

/** What the responder must know about this file's events, as one sentence per limit. */
function limits(shape: EventCsvShape, cov: CsvCoverage, records: number, zone: string | undefined, order: { order: DateOrder | null; why: string }): string {
  const out: string[] = [`read as an event log saved as CSV (${shape.what}): ${records} event(s) from their rendered messages`];
  const span = cov.firstLocal ? ` (${cov.firstLocal} to ${cov.lastLocal} as written)` : cov.firstRaw ? ` (first row ${cov.firstRaw}, last row ${cov.lastRaw}, as written)` : '';
  if (order.order === null) {
    const fix = /contradict/.test(order.why) ? 'rows written in both orders (exports of machines with different cultures pasted together?): split the file by machine' : 'give --event-csv-dates dmy or mdy';
    out.push(`${order.why}: times not placed on the timeline${span}; ${fix}`);
  }
  else if (!order.why.startsWith('dates written year first')) out.push(order.why);
  if (zone === undefined && cov.unplaced) out.push(`times are the exporting machine's local time${order.order === null ? '' : span}, zone unknown: findings from this file have no timeline time; give --event-csv-tz with that machine's zone (e.g. Europe/Berlin)`);
  else if (zone !== undefined && cov.placed > cov.placedByCell) out.push(`times read as ${zone} (--event-csv-tz)`);
  if (zone !== undefined && cov.placedByCell) out.push(`${cov.placedByCell} time(s) placed by the offset written in their own cell (Z or ±hh:mm), not by --event-csv-tz`);
  if (cov.repeatedHour) out.push(`${cov.repeatedHour} time(s) in the hour repeated when summer time ends: read as standard time, may be an hour late`);
  if (cov.unreadTime) out.push(`${cov.unreadTime} row(s) whose time could not be read (empty, another shape, or a date that does not fit the day/month order)`);
  if (cov.noMessage) out.push(`${cov.noMessage} event(s) with no rendered message (exported where the provider's message file was missing): id, source and time only`);
  out.push(`not evaluated on CSV: ${NOT_FROM_CSV}`);
  return out.join('; ');
}

/** Adds the provenance every finding from CSV carries. */
function withCsvTime(f: RawFinding, e: CsvEvent, zone: string | undefined): void {
  f.evidence.event_time_as_written = e.localTime || null;
  f.evidence.event_time_zone = !e.time
    ? 'unknown (local time of the exporting machine)'
    : e.cellOffset !== null || zone === undefined
      ? `given in the file (${e.cellOffset ?? 'unknown'})`
      : e.repeatedHour
        ? `${zone} (in the hour repeated when summer time ends: read as standard time, may be an hour late)`
        : zone;
  f.evidence.csv_row = e.row;
}

export async function scanEventCsv(file: EvidenceFile, options: ScanOptions, rules: RuleSet, budget?: Budget, headBytes?: Buffer): Promise<FileScanResult> {
  const result = emptyResult();
  const shape = detectEventCsv(headBytes ?? (await readHead(file, 8192)));
  if (!shape) return result;
  const zone = options.eventCsvZone;
  const toUtc = zone === undefined ? null : zoneToUtc(zone);
  // The file's own dates decide; --event-csv-dates only settles a file they leave ambiguous.
  const votes = new DateOrderVotes();
  await voteDateOrder(readChunks(file, READ_BLOCK), shape, votes, () => budget?.exceeded() ?? false);
  const fromFile = votes.decide();
  const order =
    fromFile.order === null && options.eventCsvDates && !/contradict/.test(fromFile.why)
      ? { order: options.eventCsvDates, why: `${fromFile.why}; read as ${options.eventCsvDates} (--event-csv-dates)` }
      : fromFile;
  const problems: EvtxProblem[] = [];
  const cov = new CsvCoverage(order.order !== null);
  const found = new FindingGrouper(file);
  const hits: RawFinding[] = [];
  let records = 0;
  let stopped: string | null = null;
  let last: CsvEvent | undefined;
  for await (const batch of readCsvEvents(readChunks(file, READ_BLOCK), shape, { order: order.order, toUtc }, problems)) {
    if (records > 0 && budget?.exceeded()) {
      stopped = budgetReason(budget, `${records} events${last ? ` (to line ${last.line})` : ''}`);
      break;
    }
    for (const e of batch) {
      cov.add(e);
      applyRules(rules.evtxRules, toLogRecord(e, file.rel), hits, rules.context);
      for (const f of hits) {
        withCsvTime(f, e, zone);
        found.add(f);
      }
      hits.length = 0;
    }
    records += batch.length;
    last = batch.at(-1) ?? last;
  }
  Object.assign(result, found.parts());
  result.coverage = [...cov.rows.values()];
  const skipped: Skipped[] = [{ path: file.rel, reason: limits(shape, cov, records, zone, order) }];
  for (const p of problems) skipped.push({ path: file.rel, reason: p.reason, offset: p.offset });
  if (stopped !== null) {
    for (const c of result.coverage) c.partial = [file.rel];
    skipped.push({ path: file.rel, reason: stopped });
  }
  result.skipped = skipped;
  result.bytes = file.size;
  return result;
}

export const evtxCsvScanner: Scanner = {
  name: 'evtx-csv',
  classify: (_file, head) => (detectEventCsv(head) ? 'evtx-csv' : null),
  async scan(file, _format, options, rules, { budget, head } = {}) {
    return scanEventCsv(file, options, rules, budget, head?.bytes);
  },
};
