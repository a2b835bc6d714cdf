// Hours removed from inside one day's IIS log (findstr /v over a time range) leave the day's file in place: only
// the health probes' rhythm shows them. Managed Availability probes Exchange's sites every few minutes around the
// clock (AMProbe, HealthMailbox users: artefacts.help samples), users or not.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { fileProbeGaps, probeGaps, probeTimes } from '../src/engine/log-gaps.js';
import { exhunt } from './support/cli.js';

const HEAD = '#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n';
const CHROME = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/131.0.0.0+Safari/537.36';
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * A day of a front end: a probe every `every` minutes (none when 0), users 07:00-19:00 every minute (pad makes the
 * log as large as a busy server's), minutes in `cut` removed.
 */
function day(d: string, opts: { every?: number; cut?: [number, number]; pad?: number } = {}): string {
  const every = opts.every ?? 5;
  const lines: string[] = [];
  for (let m = 0; m < 1440; m++) {
    if (opts.cut && m >= opts.cut[0] && m < opts.cut[1]) continue;
    if (every && m % every === 0) lines.push(`${d} ${hhmm(m)}:07 10.0.0.5 GET /owa/ - 443 CONTOSO\\HealthMailbox0c5b1a 127.0.0.1 AMProbe/Local/ClientAccess - 200 0 0 15\r\n`);
    if (m >= 420 && m < 1140) for (let i = 0; i < (opts.pad ?? 1); i++) lines.push(`${d} ${hhmm(m)}:31 10.0.0.5 POST /mapi/emsmdb/ MailboxId=5b2a@contoso.com 443 CONTOSO\\bob 198.51.100.7 ${CHROME} - 200 0 0 31\r\n`);
  }
  return HEAD + lines.join('');
}

describe('probe rhythm', () => {
  it('a stretch of 4 h or more without a probe, where they come every few minutes, is a gap', () => {
    const t = probeTimes(Buffer.from(day('2021-03-03', { cut: [120, 390] })));
    expect(probeGaps(t).map(([a, b]) => [new Date(a).toISOString(), new Date(b).toISOString()])).toEqual([['2021-03-03T01:55:07.000Z', '2021-03-03T06:30:07.000Z']]);
    expect(probeGaps(probeTimes(Buffer.from(day('2021-03-03'))))).toEqual([]);
    // 3 h 30 removed (a CU install's stop): under the threshold.
    expect(probeGaps(probeTimes(Buffer.from(day('2021-03-03', { cut: [120, 330] }))))).toEqual([]);
    // Probes every 30 minutes: too sparse to judge; no probes at all: nothing to judge by.
    expect(probeGaps(probeTimes(Buffer.from(day('2021-03-03', { every: 30, cut: [120, 390] }))))).toEqual([]);
    expect(probeTimes(Buffer.from(day('2021-03-03', { every: 0 })))).toEqual([]);
  });
});

describe('a front end whose log of one day lost hours', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-gaps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const scan = (name: string, cut: [number, number] | undefined, opts: { every?: number; pad?: number } = {}) => {
    const root = join(dir, name, 'inetpub/logs/LogFiles/W3SVC1');
    mkdirSync(root, { recursive: true });
    for (let n = 1; n <= 5; n++) {
      const d = `2021-03-0${n}`;
      writeFileSync(join(root, `u_ex21030${n}.log`), day(d, { ...opts, cut: n === 3 ? cut : undefined }));
    }
    const out = join(dir, `${name}.json`);
    exhunt(['scan', join(dir, name), '--since', '2021-03-01', '--json', out]);
    return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
  };

  it('every hour there: clean; 02:00-06:30 removed: insufficient-evidence naming the hours and the file', () => {
    expect(scan('whole', undefined).verdict).toBe('clean');
    const h = scan('cut', [120, 390]);
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/^no sign of an attack, but web logs with hours missing inside them: no Exchange health-probe line for 2021-03-03 01:55 → 2021-03-03 06:30 \(4\.6 h, LogFiles\\W3SVC1\\u_ex210303\.log\)/);
    expect(h.coverage_gaps?.some((g) => g.includes('2021-03-03 01:55 → 2021-03-03 06:30'))).toBe(true);
  });

  it('a large log (read in windows) shows the same hours', () => {
    // ~25 MB per day: the gap lies between two read windows and is found by reading the bytes between them.
    const h = scan('cut-large', [120, 390], { pad: 60 });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/no Exchange health-probe line for 2021-03-03 01:55 → 2021-03-03 06:30/);
  });

  it("hours cut at a day log's end or the next one's start: seen against the neighbouring day's log (review10 R19)", () => {
    // /tmp/review10/repro/gaptail: day 21 without 18:00-23:59, day 22 whole, was CLEAN: only a file's inside was judged.
    const end = scan('cut-end', [1080, 1440]);
    expect(end.verdict).toBe('insufficient-evidence');
    expect(end.reasons[0]).toMatch(/no Exchange health-probe line for 2021-03-03 17:55 → 2021-03-04 00:00 \(6\.1 h, LogFiles\\W3SVC1\\u_ex210303\.log\)/);
    const start = scan('cut-start', [0, 300]);
    expect(start.reasons[0]).toMatch(/no Exchange health-probe line for 2021-03-02 23:55 → 2021-03-03 05:00 \(5\.1 h, LogFiles\\W3SVC1\\u_ex210302\.log\)/);
    // A large log (read in windows): its last probes are read too.
    expect(scan('cut-end-large', [1080, 1440], { pad: 60 }).reasons[0]).toMatch(/2021-03-03 17:55 → 2021-03-04 00:00/);
  });

  it('a quiet server without probes, silent at night: never judged by this', () => {
    expect(scan('quiet', [120, 390], { every: 0 }).verdict).toBe('clean');
  });
});

describe('the windows a large log is read in (review10 R19)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-gapwin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A low-volume front end (~14 MB a day: a probe a minute, 50 user lines a minute): a few minutes without a probe
  // (a Managed Availability restart) where a read window falls must not become hours missing.
  const minute = (d: string, m: number, probe: boolean) =>
    (probe ? `${d} ${hhmm(m)}:07 10.0.0.5 GET /owa/ - 443 CONTOSO\\HealthMailbox0c5b1a 127.0.0.1 AMProbe/Local/ClientAccess - 200 0 0 15\r\n` : '') +
    `${d} ${hhmm(m)}:31 10.0.0.5 POST /mapi/emsmdb/ MailboxId=5b2a@contoso.com 443 CONTOSO\\bob 198.51.100.7 ${CHROME} - 200 0 0 31\r\n`.repeat(50);
  const write = (name: string, quiet: (m: number) => boolean) => {
    const text = HEAD + Array.from({ length: 1440 }, (_, m) => minute('2021-08-21', m, !quiet(m))).join('');
    const abs = join(dir, name);
    writeFileSync(abs, text);
    return { kind: 'fs' as const, abs, rel: `W3SVC1/${name}`, size: Buffer.byteLength(text), mtimeMs: 0 };
  };
  // The minute at byte 8 MiB (a read window's start), from a whole day's layout.
  const perMinute = Buffer.byteLength(minute('2021-08-21', 0, true));
  const at8 = Math.floor((8 * 1024 * 1024 - HEAD.length) / perMinute);

  it('probes paused for 7 minutes over a read window: no gap; 5 h of lines removed in the same file: found', async () => {
    expect(await fileProbeGaps(write('u_ex210821.log', (m) => m >= at8 - 3 && m <= at8 + 3))).toEqual([]);
    const cut = await fileProbeGaps(write('u_ex210821-cut.log', (m) => (m >= at8 - 3 && m <= at8 + 3) || (m >= 780 && m < 1080)));
    expect(cut.map((g) => [g.from, g.to])).toEqual([['2021-08-21T12:59:07Z', '2021-08-21T18:00:07Z']]);
  });
});
