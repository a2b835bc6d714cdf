// Line numbers through the real text scanner on hostile line ends: the finder's SIMD pass numbers the lines it finds
// in its block loop (multifind.wat), the other lines are counted apart; every finding must carry the physical line
// number a plain count gives, across the 4 MiB read chunks and in byte ranges.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { ScanReport } from '../src/model.js';
import { rng } from './support/rng.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-numbering-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIELDS = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
const SHELL = '/aspnet_client/system_web/aKdMadOeT.aspx';

/**
 * An IIS log of ~9 MiB: busy benign traffic (OWA, ECP and EWS lines hold rule needles, so most lines are found by
 * the SIMD pass), long lines without a needle (more than 127 block pairs: the kernel's byte lanes are summed
 * mid-run; one longer than a piece of a chunk), NUL and bad UTF-8 past the head, and lines ended by CRLF, LF or a lone CR (a line end of its own).
 * Returns the bytes, the physical line numbers of the planted web shell requests (fewer than a group: each one is
 * reported with its line) and the number of records.
 */
function makeLog(seed: number, unterminated: boolean): { bytes: Buffer; shells: number[]; records: number } {
  const rnd = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const parts: string[] = [];
  const shells: number[] = [];
  let line = 0;
  let records = 0;
  let size = 0;
  let huge = false;
  const add = (text: string, end: string) => {
    parts.push(text, end);
    size += text.length + end.length;
    line++;
  };
  const ends = ['\r\n', '\r\n', '\r\n', '\n', '\r'];
  for (const d of ['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0', '#Date: 2021-03-03 00:00:00', `#Fields: ${FIELDS}`]) add(d, '\r\n');
  const stems = ['/owa/auth/15.2.1118/themes/resources/segoeui-regular.ttf', '/ecp/default.aspx', '/EWS/Exchange.asmx', '/mapi/emsmdb/', '/Microsoft-Server-ActiveSync/default.eas'];
  while (size < 9 * 1024 * 1024) {
    const i = line;
    const t = `2021-03-03 00:${String(i % 60).padStart(2, '0')}:${String(i % 59).padStart(2, '0')}`;
    const r = rnd();
    let text: string;
    if (!huge && size > 5 * 1024 * 1024) {
      // Once: a line longer than the pieces a chunk is handled in (textlog.ts PIECE), a shell request right after it.
      huge = true;
      text = `${t} 10.1.1.5 GET x ${'q'.repeat(300 * 1024)} 443 - 10.20.30.1 Outlook - 200 0 0 15`;
      records++;
      add(text, '\r\n');
      text = `${t} 10.1.1.5 GET ${SHELL} cmd=whoami 443 - 10.20.30.${i % 250} Mozilla/5.0 - 200 0 0 15`;
      shells.push(line + 1);
    } else if (r < 0.001) {
      text = `${t} 10.1.1.5 GET ${SHELL} cmd=whoami 443 - 10.20.30.${i % 250} Mozilla/5.0 - 200 0 0 15`;
      shells.push(line + 1);
    } else if (r < 0.003) {
      // A long line with no needle (no '/' or '.'): the scan runs many block pairs without a match.
      text = `${t} 10.1.1.5 GET x ${'q'.repeat(int(4_100, 20_000))} 443 - 10.20.30.1 Outlook - 200 0 0 15`;
    } else {
      const stem = stems[int(0, stems.length - 1)];
      // Past the head: a NUL or an invalid UTF-8 byte in the user agent now and then.
      const ua = size > 256 * 1024 && rnd() < 0.01 ? (rnd() < 0.5 ? 'Mozilla\u0000/5.0' : 'Mozilla\u00ff\u00fe/5.0') : 'Mozilla/5.0+(Windows+NT+10.0)';
      text = `${t} 10.1.1.5 ${rnd() < 0.8 ? 'GET' : 'POST'} ${stem} ${rnd() < 0.5 ? '-' : `id=${int(0, 1e6)}`} 443 user@example.org 10.20.30.${i % 250} ${ua} - 200 0 0 ${int(1, 900)}`;
    }
    records++;
    add(text, ends[int(0, ends.length - 1)]);
  }
  // Another header block mid-file (IIS reopens its log), then the last line with or without its line end.
  for (const d of ['#Software: Microsoft Internet Information Services 10.0', `#Fields: ${FIELDS}`]) add(d, '\n');
  add(`2021-03-03 23:59:59 10.1.1.5 GET ${SHELL} cmd=whoami 443 - 10.20.30.7 Mozilla/5.0 - 200 0 0 15`, unterminated ? '' : '\r\n');
  shells.push(line);
  records++;
  return { bytes: Buffer.from(parts.join(''), 'latin1'), shells, records };
}

const run = (dir: string, rangeBytes?: number) => scan({ paths: [dir], jobs: 1, rangeBytes });
const shellLines = (r: ScanReport) =>
  r.hosts[0].findings
    .filter((f) => f.rule === 'WS-40')
    .map((f) => f.source.line ?? 0)
    .sort((a, b) => a - b);

describe('line numbers of the text scanner on hostile line ends', () => {
  for (const [seed, unterminated] of [
    [7, false],
    [8, true],
  ] as const) {
    it(`numbers every finding as a plain count does, whole and in ranges (seed ${seed}${unterminated ? ', no final line end' : ''})`, async () => {
      const { bytes, shells, records } = makeLog(seed, unterminated);
      // The plain count: CRLF, LF and a lone CR each end a line.
      const physical = bytes.toString('latin1').split(/\r\n|\r|\n/);
      for (const l of shells) expect(physical[l - 1]).toContain(SHELL);
      const dir = join(root, `host${seed}`, 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'u_ex210303.log'), bytes);
      const whole = await run(join(root, `host${seed}`));
      expect(shellLines(whole)).toEqual(shells);
      expect(whole.hosts[0].coverage.find((c) => c.format === 'iis')?.records).toBe(records);
      for (const size of [1_000_003, 3 * 1024 * 1024 + 17]) {
        const parts = await run(join(root, `host${seed}`), size);
        expect(shellLines(parts), `ranges of ${size} bytes`).toEqual(shells);
        expect(parts.hosts[0].coverage.find((c) => c.format === 'iis')?.records, `ranges of ${size} bytes`).toBe(records);
      }
    }, 60_000);
  }
});
