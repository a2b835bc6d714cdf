// Times in event logs saved as CSV. PowerShell's Export-Csv writes a DateTime with its ToString(), i.e. in the
// exporting session's culture and the exporting machine's local time, with no zone (PowerShell/PowerShell#19536:
// "19/04/2023 13:59:09" on en-GB, "04/19/2023 13:59:09" on en-US; no milliseconds); Event Viewer's "Save as CSV"
// writes the viewer's short date and long time ("10/7/2016 06:38:24 PM"). So a stamp says neither its zone nor
// whether 03/04 is 3 April or 4 March: the zone must be given (`--event-csv-tz`), the order is read from the file
// (a first number above 12 is a day) or given (`--event-csv-dates`).

export type DateOrder = 'dmy' | 'mdy';

/** A stamp as written: the date's numbers in file order, the time of day, and an offset when the cell has one. */
export interface LocalStamp {
  /** Year first (2021-03-04, 2021/03/04): unambiguous. */
  yearFirst: boolean;
  a: number;
  b: number;
  year: number;
  /** Separator between the date's numbers. */
  sep: string;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second as written (digits), '' for none. */
  fraction: string;
  /** Minutes east of UTC when the cell carries `Z` or an offset (an export that formatted its times as ISO), else null. */
  offsetMinutes: number | null;
}

// Anchored, each part a bounded digit run, and only run on cells of at most MAX_STAMP characters: linear.
const STAMP = /^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:T|,? {1,3})(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,7}))? {0,2}([AaPp]\.?[Mm]\.?)? {0,2}(Z|[+-]\d\d:?\d\d)?$/;
const MAX_STAMP = 48;

/** The stamp in a time cell, or null when it is not one of the shapes above (or the year has two digits). */
export function parseStamp(cell: string): LocalStamp | null {
  const s = cell.trim();
  if (s.length > MAX_STAMP) return null;
  const m = STAMP.exec(s);
  if (!m) return null;
  const yearFirst = m[1].length === 4;
  if (!yearFirst && m[4].length !== 4) return null;
  let hour = Number(m[5]);
  const ampm = m[9]?.[0].toLowerCase();
  if (ampm !== undefined) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (ampm === 'p' ? 12 : 0);
  }
  let offsetMinutes: number | null = null;
  if (m[10] !== undefined) {
    const z = m[10];
    offsetMinutes = z === 'Z' ? 0 : (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(-2)));
  }
  return {
    yearFirst,
    a: Number(yearFirst ? m[3] : m[1]),
    b: Number(yearFirst ? m[4] : m[3]),
    year: Number(yearFirst ? m[1] : m[4]),
    sep: m[2],
    hour,
    minute: Number(m[6]),
    second: Number(m[7] ?? 0),
    fraction: m[8] ?? '',
    offsetMinutes,
  };
}

/** What the stamps of one file say about day/month order, gathered row by row. */
export class DateOrderVotes {
  /** Stamps whose first number is above 12 (a day: d/m/y), whose second is (m/d/y), and all day-first ones seen. */
  dayFirst = 0;
  monthFirst = 0;
  stamps = 0;
  dotted = 0;
  yearFirst = 0;

  add(s: LocalStamp): void {
    this.stamps++;
    if (s.yearFirst) {
      this.yearFirst++;
      return;
    }
    if (s.sep === '.') this.dotted++;
    if (s.a > 12 && s.b <= 12) this.dayFirst++;
    else if (s.b > 12 && s.a <= 12) this.monthFirst++;
  }

  /**
   * The order and how it was decided; null order when the file cannot settle it (then `why` says so). Dotted dates
   * (03.04.2021) are day first in every culture that writes them (de-DE, ru-RU, pl-PL, fi-FI, cs-CZ …).
   */
  decide(): { order: DateOrder | null; why: string } {
    const nonIso = this.stamps - this.yearFirst;
    if (nonIso === 0) return { order: 'dmy', why: this.stamps ? 'dates written year first (unambiguous)' : 'no dates read' };
    if (this.dayFirst && this.monthFirst) return { order: null, why: `dates contradict each other (${this.dayFirst} with the day first, ${this.monthFirst} with the month first): day/month order unknown` };
    if (this.dayFirst) return { order: 'dmy', why: `day/month order from the file: ${this.dayFirst} date(s) with a first number above 12 (day first)` };
    if (this.monthFirst) return { order: 'mdy', why: `day/month order from the file: ${this.monthFirst} date(s) with a second number above 12 (month first)` };
    if (this.dotted === nonIso) return { order: 'dmy', why: 'day/month order from the dotted dates (day first in every culture that writes them)' };
    return { order: null, why: `day/month order ambiguous: no day above 12 in ${nonIso} date(s)` };
  }
}

/** `YYYY-MM-DD hh:mm:ss[.f]` as written on the exporting machine, or null when the order is unknown or the date impossible. */
export function localText(s: LocalStamp, order: DateOrder | null): string | null {
  const ymd = fields(s, order);
  if (!ymd) return null;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(ymd.y, 4)}-${p(ymd.m)}-${p(ymd.d)} ${p(s.hour)}:${p(s.minute)}:${p(s.second)}${s.fraction ? `.${s.fraction}` : ''}`;
}

function fields(s: LocalStamp, order: DateOrder | null): { y: number; m: number; d: number } | null {
  if (!s.yearFirst && order === null) return null;
  const m = s.yearFirst || order === 'mdy' ? s.a : s.b;
  const d = s.yearFirst || order === 'mdy' ? s.b : s.a;
  if (m < 1 || m > 12 || d < 1 || s.hour > 23 || s.minute > 59 || s.second > 59) return null;
  const t = Date.UTC(s.year, m - 1, d);
  if (new Date(t).getUTCDate() !== d) return null; // 31/02 and the like
  return { y: s.year, m, d };
}

/**
 * A time zone as given: a fixed offset (`+01:00`, `-0500`, `UTC`) or an IANA name (`Europe/Berlin`); null when neither.
 * For a zone with summer time, `repeated` says whether a wall time falls in the hour repeated when summer time ends.
 */
export type ZoneToUtc = ((localMs: number) => number) & { repeated?: (localMs: number) => boolean };

const DAY_MS = 86_400_000;

export function zoneToUtc(zone: string): ZoneToUtc | null {
  const z = zone.trim();
  if (/^(?:UTC|GMT|Z)$/i.test(z)) return (ms) => ms;
  const off = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(z);
  if (off) {
    const minutes = (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3] ?? 0));
    return Math.abs(minutes) > 14 * 60 ? null : (ms) => ms - minutes * 60_000;
  }
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: z, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    return null;
  }
  // The zone's offset at an instant, from its wall clock there.
  const offsetAt = (utcMs: number): number => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
    return wall - Math.floor(utcMs / 1000) * 1000;
  };
  // The instants a wall time can be: with the offset of the day before and of the day after (a zone changes its
  // offset at most once within two days), each kept only if the zone really shows that wall time then.
  const candidates = (ms: number): number[] => {
    const out: number[] = [];
    for (const o of new Set([offsetAt(ms - DAY_MS), offsetAt(ms + DAY_MS)])) if (offsetAt(ms - o) === o) out.push(ms - o);
    return out;
  };
  // One rule, east and west of UTC alike: a wall time in the hour repeated when summer time ends is read as
  // standard (winter) time, the smaller offset, i.e. its later occurrence; `repeated` flags it (it may be an hour
  // early). A wall time skipped when summer time starts does not exist: read with the offset before the change.
  const toUtc: ZoneToUtc = (ms) => {
    const c = candidates(ms);
    return c.length ? Math.max(...c) : ms - offsetAt(ms - DAY_MS);
  };
  toUtc.repeated = (ms) => candidates(ms).length > 1;
  return toUtc;
}

/** The stamp's local time falls in the hour a zone repeats (read as standard time: may be an hour off). */
export function inRepeatedHour(s: LocalStamp, order: DateOrder | null, toUtc: ZoneToUtc | null): boolean {
  if (s.offsetMinutes !== null || !toUtc?.repeated) return false;
  const ymd = fields(s, order);
  return ymd !== null && toUtc.repeated(Date.UTC(ymd.y, ymd.m - 1, ymd.d, s.hour, s.minute, s.second));
}

/** The stamp as ISO UTC (7 fractional digits, as the EVTX reader writes), or null when it cannot be placed. */
export function stampToUtc(s: LocalStamp, order: DateOrder | null, toUtc: ZoneToUtc | null): string | null {
  const ymd = fields(s, order);
  if (!ymd) return null;
  const local = Date.UTC(ymd.y, ymd.m - 1, ymd.d, s.hour, s.minute, s.second);
  let utc: number;
  if (s.offsetMinutes !== null) utc = local - s.offsetMinutes * 60_000;
  else if (toUtc) utc = toUtc(local);
  else return null;
  return `${new Date(utc).toISOString().slice(0, 19)}.${s.fraction.padEnd(7, '0').slice(0, 7)}Z`;
}
