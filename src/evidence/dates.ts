// --since/--until: log files that cannot hold a record inside the window are left unread, decided from the file's
// name date or its modification time alone. Conservative by a day either way: IIS may roll its files over on local
// time (up to 14 h off UTC), and an hourly Exchange log holds only its hour, so a one-day margin never drops a file
// that could hold a record inside the window.
import { type EvidenceFile, withoutGz } from './file.js';

/** ISO 8601 UTC bounds; null = open. */
export interface DateWindow {
  since: string | null;
  until: string | null;
  /**
   * Also skip by name date (a window the user asked for). Off for the default --since: the example and fleet
   * verdicts prove coverage from logs that start before it, and a skipped file would no longer show that.
   */
  byName?: boolean;
}

const DAY = 86_400_000;
/**
 * Before this, a modification time is no date: the zip format's zero date (DOS's epoch, 1980-01-01, what a writer
 * that sets no time stores; a date field of 0 reads as 1979-11-30) or the Unix epoch. A log with it was skipped as
 * "last modified before --since" unread, its attack lines with it.
 */
const NO_DATE_BEFORE = Date.UTC(1980, 0, 3);
/** Only logs are skipped by date: a web shell's time stamps say nothing about whether it matters. */
const LOG_FILE = /\.(log|evtx)$/i;
/** IIS: u_exYYMMDD.log, hourly u_exYYMMDDHH.log, weekly u_exYYMMWW.log (u_in / u_nc: other log formats; no `u_`: not UTF-8). */
// Logs gathered from several servers onto one share are often renamed with the server's or site's name before
// (`EXCH01_W3SVC1_u_ex210303.log`) or after (`u_ex210303_EXCH01.log`): the `u_` form is still a name date then.
const IIS_NAME = /^(?:[^/]{0,200}[-_. ])?(?:u_)?(?:ex|in|nc)(\d\d)(\d\d)(\d\d)(\d\d)?(?:_x|[-_. ][^/.]{1,64})?\.log$/i;
const NAME_DATES: Array<{ re: RegExp; date: (m: RegExpExecArray) => string; prefix?: string }> = [
  { re: IIS_NAME, date: (m) => `20${m[1]}-${m[2]}-${m[3]}` },
  // Exchange logs: HttpProxy_2021030304-1.LOG, ECPServer20210301-1.LOG, MSGTRK2021030115-1.LOG ...
  { re: /(?:^|[_a-z])((?:19|20)\d\d)(\d\d)(\d\d)(?:\d\d)?-\d{1,6}\.log$/i, date: (m) => `${m[1]}-${m[2]}-${m[3]}` },
  // Archived event logs: Archive-Security-2021-03-01-10-22-33-123.evtx (the prefix is checked apart: no `.+`).
  { re: /-((?:19|20)\d\d)-(\d\d)-(\d\d)-\d\d-\d\d-\d\d-\d{1,6}\.evtx$/i, date: (m) => `${m[1]}-${m[2]}-${m[3]}`, prefix: 'archive-' },
];

/** The day a log file's name says it starts (YYYY-MM-DD), or null when the name carries no date. */
export function nameDate(rel: string): string | null {
  const base = withoutGz(rel.slice(rel.lastIndexOf('/') + 1));
  for (const { re, date, prefix } of NAME_DATES) {
    if (prefix !== undefined && !base.toLowerCase().startsWith(prefix)) continue;
    const m = re.exec(base);
    if (!m) continue;
    const d = date(m);
    const t = Date.parse(`${d}T00:00:00Z`);
    // A real calendar day (Date.parse rolls 2021-02-30 over, so compare back).
    if (!Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d) return d;
  }
  return null;
}

const folderOf = (rel: string): string => rel.slice(0, rel.lastIndexOf('/') + 1);

/**
 * Folders whose IIS logs roll over weekly: u_exYYMMWW.log, WW the week of the month (01–06; a week starts on Sunday:
 * "Log files created weekly, starting with the first entry that occurs as Sunday begins", IIS 4.0 help, and the
 * names in HTTP_LOGGING_ROLLOVER_TYPE's table). A weekly name looks like a daily one for days 1–6, so a folder is
 * weekly when its IIS names span `months` months or more and none says a day after the 6th: read as days, its weeks
 * made holes of most of every month, and --since left out the weeks inside the window. --since asks with one month
 * (a week file read in vain costs little; one left out loses its lines), the holes with two.
 */
export function weeklyFolders(rels: Iterable<string>, months = 2): Set<string> {
  const by = new Map<string, { months: Set<string>; daily: boolean }>();
  for (const rel of rels) {
    const m = IIS_NAME.exec(withoutGz(rel.slice(rel.lastIndexOf('/') + 1)));
    if (!m) continue;
    const folder = folderOf(rel);
    const f = by.get(folder) ?? { months: new Set<string>(), daily: false };
    f.months.add(m[1] + m[2]);
    // Hourly names and days after the 6th are daily names.
    if (m[4] !== undefined || Number(m[3]) > 6 || m[3] === '00') f.daily = true;
    by.set(folder, f);
  }
  return new Set([...by].filter(([, f]) => !f.daily && f.months.size >= months).map(([folder]) => folder));
}

/**
 * The days a log file's name says it holds (YYYY-MM-DD, in order): one day, or for a weekly IIS name (its folder in
 * `weekly`) the seven days from its week's start (day 1 for week 1: a week may run on into the next month).
 */
export function nameDays(rel: string, weekly: ReadonlySet<string>): string[] {
  const d = nameDate(rel);
  if (d === null) return [];
  if (!weekly.has(folderOf(rel))) return [d];
  const first = Date.parse(`${d.slice(0, 8)}01T00:00:00Z`);
  const week = Number(d.slice(8));
  // Week 1 runs from the 1st to the first Saturday; week n starts on the (n-1)th Sunday after the 1st.
  const start = week === 1 ? first : first + (7 * (week - 1) - new Date(first).getUTCDay()) * DAY;
  return Array.from({ length: 7 }, (_, i) => new Date(start + i * DAY).toISOString().slice(0, 10));
}

/** The days a set of log files is named for (weekly IIS folders told from their names). */
export function namedDays(rels: readonly string[]): string[] {
  const weekly = weeklyFolders(rels);
  return rels.flatMap((rel) => nameDays(rel, weekly));
}

type Outside = { kind: 'modified' | 'named' | 'after'; day: string };

/**
 * Why `file` is left unread for `w` (which date, and the day it says), or null when it may hold a record inside.
 * `weekly`: folders whose IIS names are weeks (weeklyFolders).
 */
export function outsideWindow(file: Pick<EvidenceFile, 'rel' | 'mtimeMs'>, w: DateWindow, weekly: ReadonlySet<string> = new Set()): Outside | null {
  if (!LOG_FILE.test(withoutGz(file.rel))) return null;
  const days = w.byName ? nameDays(file.rel, weekly) : [];
  // A name in a folder taken for weekly may still be a day (one month of names with no day after the 6th): the file
  // is kept while either reading may hold a record inside, from that day (never later than its week's start) to the
  // week's end.
  const named = days.length ? nameDate(file.rel) : null;
  const start = named === null ? NaN : Date.parse(`${named}T00:00:00Z`);
  const end = named === null ? NaN : Date.parse(`${days[days.length - 1]}T00:00:00Z`);
  if (w.since !== null) {
    const since = Date.parse(w.since);
    // Last written before the window: its newest record is older too (zip entry times are zone-less: a day of slack).
    // Not when its name says a later day: a log is written on the day it is named for, so a time from before that
    // is not its own (set back by an attacker hiding the log, or by a copy tool) and the name decides.
    const nameStart = Date.parse(`${nameDays(file.rel, weekly)[0]}T00:00:00Z`);
    const ownTime = !(file.mtimeMs + DAY < nameStart);
    if (Number.isFinite(file.mtimeMs) && file.mtimeMs >= NO_DATE_BEFORE && ownTime && file.mtimeMs + DAY < since) return { kind: 'modified', day: new Date(file.mtimeMs).toISOString().slice(0, 10) };
    if (end + 2 * DAY <= since) return { kind: 'named', day: named! };
  }
  if (w.until !== null && start - DAY > Date.parse(w.until)) return { kind: 'after', day: named! };
  return null;
}

/**
 * The files to read: log files outside the window are left out before any byte is read, and each group (by which
 * date decided) is one line in `skipped` — with the count and an example, so thousands of old logs stay readable.
 */
export function skipByDate<F extends Pick<EvidenceFile, 'rel' | 'mtimeMs'>>(files: F[], w: DateWindow, skipped: Array<{ path: string; reason: string }>): F[] {
  const kept: F[] = [];
  const out = new Map<Outside['kind'], { files: F[]; days: string[] }>();
  const weekly = weeklyFolders(files.map((f) => f.rel), 1);
  for (const f of files) {
    const o = outsideWindow(f, w, weekly);
    if (o === null) {
      kept.push(f);
      continue;
    }
    const g = out.get(o.kind) ?? { files: [], days: [] };
    g.files.push(f);
    g.days.push(o.day);
    out.set(o.kind, g);
  }
  const since = w.since?.slice(0, 10);
  for (const [kind, g] of out) {
    const days = g.days.sort();
    const path = g.files.length === 1 ? g.files[0].rel : `${g.files.length} log files (e.g. ${g.files[0].rel})`;
    const reason =
      kind === 'modified' ? `last modified before --since ${since} (newest ${days[days.length - 1]}), so no record inside the window`
      : kind === 'named' ? `named for a day before --since ${since} (newest ${days[days.length - 1]}), so no record inside the window`
      : `named for a day after --until ${w.until!.slice(0, 10)} (oldest ${days[0]})`;
    skipped.push({ path, reason: `skipped by date: ${reason}; not read` });
  }
  return kept;
}
