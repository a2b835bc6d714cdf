// --since/--until skip log files by name date or modification time, before reading them, and list each one.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nameDate, namedDays, nameDays, outsideWindow, skipByDate, weeklyFolders } from '../src/evidence/dates.js';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';
import { zipOf } from './support/zip.js';

const day = (d: string) => `${d}T00:00:00.000Z`;
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('name dates of log files', () => {
  it('reads IIS, Exchange and archived event log names', () => {
    expect(nameDate('inetpub/logs/LogFiles/W3SVC1/u_ex210303.log')).toBe('2021-03-03');
    expect(nameDate('W3SVC2/u_ex21030314.log')).toBe('2021-03-03');
    expect(nameDate('Logging/HttpProxy/Owa/HttpProxy_2021030304-1.LOG')).toBe('2021-03-03');
    expect(nameDate('Logging/ECP/Server/ECPServer20210301-12.LOG')).toBe('2021-03-01');
    expect(nameDate('Windows/System32/winevt/Logs/Archive-Security-2021-03-01-10-22-33-123.evtx')).toBe('2021-03-01');
    // Compressed in place by a clean-up script: the log's own name still dates it (and --since can skip it).
    expect(nameDate('W3SVC1/u_ex210303.log.gz')).toBe('2021-03-03');
    expect(nameDate('Logging/HttpProxy/Owa/HttpProxy_2021030304-1.LOG.GZ')).toBe('2021-03-03');
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210301.log.gz', mtimeMs: Date.parse('2026-01-01T00:00:00Z') }, { since: '2021-03-05T00:00:00Z', until: null, byName: true })).toEqual({ kind: 'named', day: '2021-03-01' });
  });

  it('reads the names of IIS logs written without UTF-8 (exYYMMDD.log), and weekly names in a weekly folder', () => {
    expect(nameDate('W3SVC1/ex210303.log')).toBe('2021-03-03');
    // u_exYYMMWW.log: weeks of the month (from the 1st, then from each Sunday) over two months and more.
    const weekly = ['W3SVC1/u_ex210205.log', 'W3SVC1/u_ex210301.log', 'W3SVC1/u_ex210302.log', 'W3SVC1/u_ex210306.log'];
    const daily = ['W3SVC2/u_ex210205.log', 'W3SVC2/u_ex210301.log', 'W3SVC2/u_ex210307.log', 'W3SVC3/u_ex21030100.log', 'W3SVC3/u_ex21040100.log'];
    const folders = weeklyFolders([...weekly, ...daily]);
    expect([...folders]).toEqual(['W3SVC1/']);
    expect(nameDays('W3SVC1/u_ex210301.log', folders)).toEqual(['2021-03-01', '2021-03-02', '2021-03-03', '2021-03-04', '2021-03-05', '2021-03-06', '2021-03-07']);
    // 2021-03-01 is a Monday: week 2 starts on Sunday the 7th.
    expect(nameDays('W3SVC1/u_ex210302.log', folders)[0]).toBe('2021-03-07');
    expect(nameDays('W3SVC2/u_ex210301.log', folders)).toEqual(['2021-03-01']);
    expect(namedDays(weekly).length).toBe(28);
    const w = { since: day('2021-03-10'), until: null, byName: true };
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210302.log', mtimeMs: NaN }, w, folders)).toBeNull();
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210301.log', mtimeMs: NaN }, w, folders)).toEqual({ kind: 'named', day: '2021-03-01' });
    expect(outsideWindow({ rel: 'W3SVC2/u_ex210307.log', mtimeMs: NaN }, w, folders)).toEqual({ kind: 'named', day: '2021-03-07' });
    // One month of week files (a 30-day clean-up kept only these): --since reads them as weeks, the holes as days.
    const march = ['W4/u_ex210301.log', 'W4/u_ex210302.log', 'W4/u_ex210303.log'];
    expect(skipByDate(march.map((rel) => ({ rel, mtimeMs: NaN })), { since: day('2021-03-15'), until: null, byName: true }, []).map((f) => f.rel)).toEqual(['W4/u_ex210303.log']);
    expect(namedDays(march)).toEqual(['2021-03-01', '2021-03-02', '2021-03-03']);
    // The same names may be days (a daily folder's first days of a month): --until keeps them as days (review9 F5:
    // week 2 of September 2021 starts on Sunday the 5th, so read as a week u_ex210902.log was dropped with its lines).
    const sept = ['W5/u_ex210901.log', 'W5/u_ex210902.log', 'W5/u_ex210903.log', 'W5/u_ex210904.log', 'W5/u_ex210905.log'];
    expect(skipByDate(sept.map((rel) => ({ rel, mtimeMs: NaN })), { since: day('2021-09-01'), until: day('2021-09-03'), byName: true }, []).map((f) => f.rel)).toEqual(sept.slice(0, 4));
  });

  it('reads IIS names a central log share renamed with the server or site before or after the date', () => {
    expect(nameDate('share/EXCH01_W3SVC1_u_ex210303.log')).toBe('2021-03-03');
    expect(nameDate('share/EXCH01-u_ex21030314.log')).toBe('2021-03-03');
    expect(nameDate('share/u_ex210303_EXCH01.log')).toBe('2021-03-03');
    expect(nameDate('share/u_ex210303_EXCH01.log.gz')).toBe('2021-03-03');
    expect(nameDate('share/index210303.log')).toBeNull();
    expect(nameDate('share/u_ex2103031.log')).toBeNull();
  });

  it('finds no date in other names, or in impossible ones', () => {
    expect(nameDate('W3SVC1/u_ex210230.log')).toBeNull();
    expect(nameDate('Logging/Misc/trace.log')).toBeNull();
    expect(nameDate('Windows/System32/winevt/Logs/Security.evtx')).toBeNull();
  });
});

describe('outsideWindow', () => {
  const w = { since: day('2021-03-04'), until: null, byName: true };

  it('skips a log named two days or more before --since, keeps the day before (local-time rollover)', () => {
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210302.log', mtimeMs: NOW }, w)).toEqual({ kind: 'named', day: '2021-03-02' });
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210303.log', mtimeMs: NOW }, w)).toBeNull();
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210304.log', mtimeMs: NOW }, w)).toBeNull();
  });

  it('skips a log last written more than a day before --since, whatever its name', () => {
    expect(outsideWindow({ rel: 'winevt/Logs/Security.evtx', mtimeMs: Date.parse('2021-03-02T12:00:00Z') }, w)).toEqual({ kind: 'modified', day: '2021-03-02' });
    expect(outsideWindow({ rel: 'winevt/Logs/Security.evtx', mtimeMs: Date.parse('2021-03-03T12:00:00Z') }, w)).toBeNull();
  });

  it('skips by name only for a window the user asked for (the default --since goes by modification time alone)', () => {
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210301.log', mtimeMs: NOW }, { ...w, byName: false })).toBeNull();
  });

  it('never skips a file that is not a log (a web shell is old or new, it matters)', () => {
    expect(outsideWindow({ rel: 'inetpub/wwwroot/aspnet_client/u_ex200101.aspx', mtimeMs: 0 }, w)).toBeNull();
  });

  it("never skips by the zip format's zero date (an entry written with no time): it is no modification time", () => {
    const w = { since: day('2020-12-01'), until: null };
    for (const t of [Date.UTC(1980, 0, 1), new Date(1980, 0, 1).getTime(), new Date(1980, -1, 0).getTime(), 0]) {
      expect(outsideWindow({ rel: 'W3SVC1/u_ex210305.log', mtimeMs: t }, w)).toBeNull();
    }
    expect(outsideWindow({ rel: 'W3SVC1/u_ex200305.log', mtimeMs: Date.UTC(2020, 2, 6) }, w)).toEqual({ kind: 'modified', day: '2020-03-06' });
  });

  it('never skips by a modification time from before the day the log is named for (set back: the name decides)', () => {
    const w = { since: day('2020-12-01'), until: null };
    // An attacker (or a copy tool) set the attack day's log back to 2019: it was skipped unread, its web shell with it.
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210305.log', mtimeMs: Date.UTC(2019, 5, 1) }, w)).toBeNull();
    expect(outsideWindow({ rel: 'Logging/HttpProxy/Owa/HttpProxy_2021030508-1.LOG', mtimeMs: Date.UTC(2019, 5, 1) }, w)).toBeNull();
    // Its own time (written on its day, or the evening before with local-time rollover): skipped as before.
    expect(outsideWindow({ rel: 'W3SVC1/u_ex190601.log', mtimeMs: Date.UTC(2019, 5, 1, 23) }, w)).toEqual({ kind: 'modified', day: '2019-06-01' });
    expect(outsideWindow({ rel: 'W3SVC1/u_ex190601.log', mtimeMs: Date.UTC(2019, 4, 31, 12) }, w)).toEqual({ kind: 'modified', day: '2019-05-31' });
    expect(outsideWindow({ rel: 'W3SVC1/trace.log', mtimeMs: Date.UTC(2019, 5, 1) }, w)).toEqual({ kind: 'modified', day: '2019-06-01' });
  });

  it('skips a log named more than a day after --until', () => {
    const u = { since: null, until: '2021-03-04T23:59:59.999Z', byName: true };
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210306.log', mtimeMs: NOW }, u)).toEqual({ kind: 'after', day: '2021-03-06' });
    expect(outsideWindow({ rel: 'W3SVC1/u_ex210305.log', mtimeMs: NOW }, u)).toBeNull();
  });
});

describe('skipByDate', () => {
  it('keeps the rest in order and says per kind how many were left out, with an example', () => {
    const skipped: Array<{ path: string; reason: string }> = [];
    const files = ['u_ex210301.log', 'u_ex210302.log', 'u_ex210303.log', 'u_ex210310.log', 'shell.aspx'].map((rel) => ({ rel, mtimeMs: NOW }));
    const kept = skipByDate(files, { since: day('2021-03-04'), until: '2021-03-08T23:59:59.999Z', byName: true }, skipped);
    expect(kept.map((f) => f.rel)).toEqual(['u_ex210303.log', 'shell.aspx']);
    expect(skipped).toEqual([
      { path: '2 log files (e.g. u_ex210301.log)', reason: 'skipped by date: named for a day before --since 2021-03-04 (newest 2021-03-02), so no record inside the window; not read' },
      { path: 'u_ex210310.log', reason: 'skipped by date: named for a day after --until 2021-03-08 (oldest 2021-03-10); not read' },
    ]);
  });
});

describe('exhunt scan --since/--until', () => {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-dates-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const site = join(root, 'mail01', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
  mkdirSync(site, { recursive: true });
  const head = (d: string) => `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: ${d} 00:00:00\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n`;
  const shell = (d: string) => `${d} 03:06:27 10.1.1.5 GET /aspnet_client/system_web/aKdMadOeT.aspx cmd=whoami 443 - 198.51.100.68 Mozilla/5.0 - 200 0 0 142\r\n`;
  const benign = (d: string) => `${d} 01:00:00 10.1.1.5 POST /mapi/emsmdb/ mailboxId=x@example.org 443 CORP\\user1 10.20.30.40 MapiHttpClient - 200 0 0 15\r\n`;
  // A web-shell call on 1 and on 5 March; the files were copied later (recent modification times).
  for (const d of ['2021-03-01', '2021-03-03', '2021-03-05', '2021-03-08']) {
    const file = join(site, `u_ex${d.slice(2).replace(/-/g, '')}.log`);
    writeFileSync(file, head(d) + benign(d) + (d.endsWith('01') || d.endsWith('05') ? shell(d) : '') + benign(d));
    utimesSync(file, NOW / 1000, NOW / 1000);
  }
  const run = (args: string[]) => {
    const json = join(root, `report-${args.join('_').replace(/[^a-z0-9]/gi, '')}.json`);
    const r = exhunt(['scan', join(root, 'mail01'), '--json', json, '--jobs', '1', ...args]);
    expect(r.code, r.stderr).toBe(1);
    return { stdout: r.stdout, report: JSON.parse(readFileSync(json, 'utf8')) as ScanReport };
  };
  const shellFiles = (rep: ScanReport) => [...new Set(rep.hosts[0].findings.filter((f) => f.rule === 'WS-40').map((f) => f.source.path))].sort();

  it('reads every file of the default window (from 2020-12-01)', () => {
    const { report } = run([]);
    expect(shellFiles(report)).toEqual(['inetpub/logs/LogFiles/W3SVC1/u_ex210301.log', 'inetpub/logs/LogFiles/W3SVC1/u_ex210305.log']);
    expect(report.hosts[0].stats.files_skipped_by_date).toBe(0);
    expect(report.hosts[0].skipped).toEqual([]);
  });

  it('leaves out the files outside the window, and lists each one', () => {
    const { report, stdout } = run(['--since', '2021-03-04', '--until', '2021-03-06']);
    const h = report.hosts[0];
    expect(shellFiles(report)).toEqual(['inetpub/logs/LogFiles/W3SVC1/u_ex210305.log']);
    expect(h.stats.files_skipped_by_date).toBe(2);
    expect(h.stats.files_scanned).toBe(2);
    expect(h.skipped.map((s) => `${s.path}: ${s.reason}`)).toEqual([
      'inetpub/logs/LogFiles/W3SVC1/u_ex210301.log: skipped by date: named for a day before --since 2021-03-04 (newest 2021-03-01), so no record inside the window; not read',
      'inetpub/logs/LogFiles/W3SVC1/u_ex210308.log: skipped by date: named for a day after --until 2021-03-06 (oldest 2021-03-08); not read',
    ]);
    expect(h.coverage.find((c) => c.source === 'IIS W3SVC1')?.files).toBe(2);
    expect(stdout).toMatch(/skipped by date\s+2 log files outside --since\/--until/);
  });

  it('reads a log whose modification time was set back before its own day (it was skipped unread, the shell with it)', () => {
    const host = join(root, 'mail03', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
    mkdirSync(host, { recursive: true });
    const file = join(host, 'u_ex210305.log');
    writeFileSync(file, head('2021-03-05') + benign('2021-03-05') + shell('2021-03-05'));
    utimesSync(file, Date.UTC(2019, 5, 1) / 1000, Date.UTC(2019, 5, 1) / 1000);
    const json = join(root, 'report-setback.json');
    exhunt(['scan', join(root, 'mail03'), '--json', json, '--jobs', '1']);
    const h = (JSON.parse(readFileSync(json, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped).toEqual([]);
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => f.time)).toEqual(['2021-03-05T03:06:27Z']);
  });

  it('reads the logs of a zip whose entries carry the zip zero date (1980-01-01): they were all skipped unread', async () => {
    const names = ['2021-03-01', '2021-03-03', '2021-03-05'];
    const bytes = await zipOf(names.map((d) => ({ name: `LogFiles/W3SVC1/u_ex${d.slice(2).replace(/-/g, '')}.log`, data: Buffer.from(head(d) + benign(d) + shell(d)), mtime: new Date(1980, 0, 1) })));
    const zip = join(root, 'MAIL02-logs.zip');
    writeFileSync(zip, bytes);
    const json = join(root, 'report-zip1980.json');
    exhunt(['scan', zip, '--json', json, '--jobs', '1']);
    const h = (JSON.parse(readFileSync(json, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped).toEqual([]);
    expect(h.findings.filter((f) => f.rule === 'WS-40').map((f) => f.time)).toEqual(names.map((d) => `${d}T03:06:27Z`));
  });
});
