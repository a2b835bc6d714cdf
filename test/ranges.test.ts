// One file as byte ranges (engine/ranges.ts): every line read exactly once, exact line numbers, and the #Fields in
// force at a range's start even when the layout changes inside the file.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRange } from '../src/evidence/file.js';
import { countRange, planRanges, rescans } from '../src/engine/ranges.js';
import { scanFile } from '../src/engine/file-task.js';
import { prepare } from '../src/engine/registry.js';
import { scan, scanOptions } from '../src/engine/scan.js';
import type { ScanReport } from '../src/model.js';
import { needExternal } from './support/external.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-ranges-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function readAllRanges(abs: string, size: number, cuts: number[]): Promise<string[]> {
  const bounds = [0, ...cuts, size];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    let text = '';
    for await (const c of readRange({ kind: 'fs', abs, rel: 'x', size, mtimeMs: 0 }, bounds[i], bounds[i + 1], undefined, 7)) text += c.toString('latin1');
    out.push(text);
  }
  return out;
}

describe('readRange', () => {
  it('gives every line to exactly one range, whatever the cuts (lines longer than a range, no final line feed)', async () => {
    let seed = 5;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let round = 0; round < 60; round++) {
      const lines = Array.from({ length: 1 + rnd(30) }, (_, i) => `${i}:${'x'.repeat(rnd(40))}`);
      const text = lines.join('\n') + (rnd(2) ? '\n' : '');
      const abs = join(root, `r${round}.txt`);
      writeFileSync(abs, text, 'latin1');
      const cuts = [...new Set(Array.from({ length: rnd(8) }, () => 1 + rnd(Math.max(1, text.length - 1))))].sort((a, b) => a - b);
      const parts = await readAllRanges(abs, text.length, cuts);
      expect(parts.join(''), JSON.stringify({ text, cuts })).toBe(text);
      // Each part starts at a line start.
      for (const p of parts) if (p) expect(/^\d+:/.test(p), JSON.stringify({ p, cuts })).toBe(true);
    }
  });
});

describe('rescans', () => {
  it('scans again only the ranges that assumed another #Fields than the one in force', () => {
    const A = '#Fields: a';
    const B = '#Fields: b';
    const infos = [
      { lines: 5, fieldsIn: null, lastFields: A },
      { lines: 5, fieldsIn: A, lastFields: B },
      { lines: 5, fieldsIn: A, lastFields: null },
      { lines: 5, fieldsIn: A, lastFields: A },
      { lines: 5, fieldsIn: A, lastFields: null },
    ];
    // Range 3 holds a #Fields A, but its lines before it are under B.
    expect([...rescans(infos)]).toEqual([
      [2, B],
      [3, B],
    ]);
  });

  it('plans ranges only for files on disk at least twice the range size', () => {
    expect(planRanges({ kind: 'fs', abs: '/x', rel: 'x', size: 99, mtimeMs: 0 }, 50)).toBeNull();
    expect(planRanges({ kind: 'fs', abs: '/x', rel: 'x', size: 100, mtimeMs: 0 }, 50)?.map((r) => [r.start, r.end])).toEqual([[0, 50], [50, 100]]);
    expect(planRanges({ kind: 'zip', zip: '/z', entry: 'x', rel: 'x', size: 1000, mtimeMs: 0 }, 50)).toBeNull();
  });
});

describe('scan of one IIS log in ranges', () => {
  const FIELDS_A = 'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
  // IIS reopened the log with another field selection: status and method moved, a field added.
  const FIELDS_B = 'date time s-ip cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status cs-method time-taken';
  const head = (fields: string) => `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: ${fields}\r\n`;
  const a = (i: number, stem: string, q: string, status: number) => `2021-03-03 00:${String(i % 60).padStart(2, '0')}:00 10.1.1.5 GET ${stem} ${q} 443 - 10.20.30.${i % 250} Mozilla/5.0 - ${status} 0 0 15`;
  const b = (i: number, stem: string, q: string, status: number) => `2021-03-03 01:${String(i % 60).padStart(2, '0')}:00 10.1.1.5 ${stem} ${q} 443 - 10.20.30.${i % 250} Mozilla/5.0 - mail.example.org ${status} 0 0 GET 15`;
  const lines: string[] = [];
  const shells: number[] = [];
  const add = (l: string, shell = false) => {
    lines.push(l);
    if (shell) shells.push(lines.length);
  };
  for (const l of head(FIELDS_A).trimEnd().split('\r\n')) add(l);
  for (let i = 0; i < 400; i++) add(i % 97 === 50 ? a(i, '/aspnet_client/system_web/aKdMadOeT.aspx', 'cmd=whoami', 200) : a(i, '/mapi/emsmdb/', 'mailboxId=x@example.org', 200), i % 97 === 50);
  for (const l of head(FIELDS_B).trimEnd().split('\r\n')) add(l);
  // Read under layout A, these lines would give the stem as the method and the query as the stem: shells missed.
  for (let i = 0; i < 400; i++) add(i % 89 === 30 ? b(i, '/aspnet_client/system_web/aKdMadOeT.aspx', 'cmd=whoami', 200) : b(i, '/mapi/emsmdb/', 'mailboxId=x@example.org', 200), i % 89 === 30);
  const dir = join(root, 'mail01', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'u_ex210303.log'), lines.join('\r\n') + '\r\n');
  const run = (rangeBytes?: number) => scan({ paths: [join(root, 'mail01')], jobs: 1, rangeBytes });
  const shellLines = (r: ScanReport) =>
    r.hosts[0].findings
      .filter((f) => f.rule === 'WS-40')
      .map((f) => [f.source.line, f.severity])
      .sort((x, y) => Number(x[0]) - Number(y[0]));
  const comparable = (r: ScanReport) => ({ findings: r.hosts[0].findings.map((f) => [f.rule, f.source.line, f.severity, f.summary]), coverage: r.hosts[0].coverage, facts: r.hosts[0].facts });

  it('reports exactly what the whole-file scan reports, at the same line numbers', async () => {
    const whole = await run();
    expect(shellLines(whole)).toEqual(shells.map((l) => [l, 'critical']));
    for (const size of [1500, 4096, 9000]) {
      const parts = await run(size);
      expect(comparable(parts), `ranges of ${size} bytes`).toEqual(comparable(whole));
    }
  });
});

describe('countRange', () => {
  it('reports the lines and the last #Fields of each range as the text scanner does, without parsing', async () => {
    const prepared = await prepare(scanOptions());
    const fields = (n: number) => `#Fields: date time s-ip cs-method cs-uri-stem f${n}`;
    // Layout changes, a lone CR (a line end for the scanner), CRLF and LF lines, no line feed at the end.
    const lines = Array.from({ length: 300 }, (_, i) => (i % 70 === 1 ? fields(i) : `2021-03-03 00:00:${String(i % 60).padStart(2, '0')} 10.0.0.1 GET /owa/${i}${i % 13 === 0 ? '\r' : ''}`));
    const text = `#Software: Microsoft Internet Information Services 10.0\r\n${lines.map((l, i) => l + (i % 2 ? '\r\n' : '\n')).join('')}tail`;
    const abs = join(root, 'count', 'u_ex210303.log');
    mkdirSync(join(root, 'count'), { recursive: true });
    writeFileSync(abs, text);
    const file = { kind: 'fs' as const, abs, rel: 'u_ex210303.log', size: text.length, mtimeMs: 0 };
    for (const size of [700, 2048, 5000]) {
      const ranges = planRanges(file, size)!;
      expect(ranges.length).toBeGreaterThan(2);
      for (const range of ranges) {
        const scanned = (await scanFile(file, scanOptions(), prepared, range)).range!;
        expect(await countRange(file, range), `range ${range.index} of ${size} bytes`).toEqual({ lines: scanned.lines, lastFields: scanned.lastFields, fieldsIn: null });
      }
    }
  });
});

describe('scan of one EVTX file in ranges', () => {
  // Real records (vendored public samples, test/fixtures/external): PX-06 (LSASS dump) and PX-13 (transport agent)
  // events in chunks spread over the file, a chunk with a damaged record data checksum, and zeroed slack at the end.
  const MITRE = 'EVTX-to-MITRE-Attack/TA0006-Credential_Access/T1003-Credential_dumping/ID4688-4663-4656-LSASS dump with LSASSY (process).evtx';
  const AGENT = 'EVTX-to-MITRE-Attack/TA0003-Persistence/T1505-Server_Software_Component/ID6-Failed to install an Exchange transport agent.evtx';
  const comparable = (r: ScanReport) => ({
    findings: r.hosts[0].findings.map((f) => [f.rule, f.source, f.severity, f.summary]),
    coverage: r.hosts[0].coverage,
    skipped: r.hosts[0].skipped,
  });

  it('reports exactly what the whole-file scan reports: same records, problems at the same offsets', async (ctx) => {
    const lsass = readFileSync(needExternal(ctx, MITRE));
    const agent = readFileSync(needExternal(ctx, AGENT));
    const chunks = (b: Buffer) => Array.from({ length: (b.length - 4096) / 65536 }, (_, i) => b.subarray(4096 + i * 65536, 4096 + (i + 1) * 65536));
    const damaged = Buffer.from(chunks(agent)[0]);
    damaged[2000] ^= 0xff; // inside a record: the chunk's data checksum no longer matches, records are salvaged
    const body = [...chunks(lsass), ...chunks(agent), damaged, ...chunks(lsass), ...chunks(agent), Buffer.alloc(65536)];
    const dir = join(root, 'mail02', 'Windows', 'System32', 'winevt', 'Logs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Security.evtx'), Buffer.concat([lsass.subarray(0, 4096), ...body]));
    const run = (rangeBytes?: number) => scan({ paths: [join(root, 'mail02')], jobs: 1, rangeBytes });
    const whole = comparable(await run());
    expect(new Set(whole.findings.map((f) => f[0]))).toEqual(new Set(['PX-06', 'PX-13']));
    expect(whole.skipped.map((s) => s.reason)).toContain('chunk data checksum mismatch, records salvaged');
    for (const size of [65536, 100_000, 4096 + 65536, 150_001]) expect(comparable(await run(size)), `ranges of ${size} bytes`).toEqual(whole);
  });
});
