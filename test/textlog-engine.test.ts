import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import { byteHistogram, collectNeedleLines, compileNeedles, planFinder } from '../src/search/needles.js';
import { LineDispatcher } from '../src/search/dispatch.js';
import { collectLines, planMultiFinder } from '../src/search/multifind.js';
import type { RecordRule } from '../src/rules/types.js';
import { external } from './support/external.js';

const QZ = external('Qazeer-artefacts.help/extracted'); // vendored (CC0)
const sample = readFileSync(`${QZ}/Mapi__HttpProxy_2023010601-1.LOG`, 'utf8').split(/\r?\n/);
const HEADER = sample.filter((l) => l.startsWith('#'));
const FIELDS = HEADER.find((l) => l.startsWith('#Fields: '))!.slice(9).split(',');
const BENIGN = sample.filter((l) => l && !l.startsWith('#'))[0];

/** A benign row with some columns replaced (the real 74-column layout). */
function rowWith(values: Record<string, string>, base = BENIGN): string {
  const cols = base.split(',');
  for (const [k, v] of Object.entries(values)) cols[FIELDS.indexOf(k)] = v;
  return cols.join(',');
}

const ATTACK = rowWith({
  DateTime: '2021-03-03T06:49:46.210Z',
  UrlStem: '/ecp/y.js',
  AnchorMailbox: 'ServerInfo~a]@ex01.corp.local:444/ecp/proxyLogon.ecp?#',
  HttpStatus: '241',
  ClientIpAddress: '130.255.189.21',
  RoutingHint: 'X-BEResource-Cookie',
});

function hostDir(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-engine-'));
  for (const [rel, body] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, body);
  }
  return root;
}

async function scanOne(root: string) {
  const report = await scan({ paths: [root], jobs: 1 });
  const host = report.hosts[0];
  // These tests are about the engine's reading; other rules (IP lists, build exposure) also fire on the fixtures.
  return { ...host, findings: host.findings.filter((f) => f.rule === 'PL-02') };
}

describe('text-log scanner', () => {
  it('gives exact physical line numbers with a BOM, CRLF and header lines counted', async () => {
    const lines = [...HEADER, BENIGN, BENIGN, ATTACK, BENIGN, ATTACK];
    const root = hostDir({ 'Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG': `\uFEFF${lines.join('\r\n')}\r\n` });
    const h = await scanOne(root);
    expect(h.findings.map((f) => [f.rule, f.source.path, f.source.line])).toEqual([
      ['PL-02', 'Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG', 8],
      ['PL-02', 'Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG', 10],
    ]);
    expect(h.coverage).toEqual([{ source: 'HttpProxy/Ecp', format: 'httpproxy', files: 1, records: 5, first: '2021-03-03T06:49:46.210Z', last: '2023-01-06T01:00:04.124Z' }]);
  });

  it('finds lines that straddle the 4 MiB chunk boundary and counts lines across chunks', async () => {
    const filler: string[] = [];
    let size = HEADER.join('\r\n').length;
    while (size < 4 * 1024 * 1024 - 600) {
      filler.push(BENIGN);
      size += BENIGN.length + 2;
    }
    const lines = [...HEADER, ...filler, ATTACK, ...filler, ATTACK];
    const root = hostDir({ 'HttpProxy/Owa/HttpProxy_2021030307-1.LOG': lines.join('\r\n') + '\r\n' });
    const h = await scanOne(root);
    expect(h.findings.map((f) => f.source.line)).toEqual([HEADER.length + filler.length + 1, HEADER.length + 2 * filler.length + 2]);
    expect(h.coverage[0].records).toBe(2 * filler.length + 2);
  });

  it('follows a #Fields block repeated mid-file with a different column order', async () => {
    const reordered = [...FIELDS].reverse();
    const reversedAttack = ATTACK.split(',').reverse().join(',');
    const lines = [...HEADER, BENIGN, '#Software: Microsoft Exchange Server', `#Fields: ${reordered.join(',')}`, reversedAttack];
    const h = await scanOne(hostDir({ 'HttpProxy/Ecp/HttpProxy_2021030308-1.LOG': lines.join('\n') + '\n' }));
    expect(h.findings).toHaveLength(1);
    expect(h.findings[0].source.line).toBe(9);
    expect(h.findings[0].evidence.status).toBe('241');
    expect(h.findings[0].client_ip).toBe('130.255.189.21');
  });

  it('reads a cut-off last line, and reports an over-long line by number then goes on', async () => {
    const cut = ATTACK.slice(0, ATTACK.indexOf(',130.255.189.21') + 15);
    const truncated = [...HEADER, BENIGN, cut].join('\r\n');
    const huge = 'x'.repeat(17 * 1024 * 1024);
    const withHuge = [...HEADER, BENIGN, huge, ATTACK].join('\r\n') + '\r\n';
    const h = await scanOne(hostDir({ 'a/HttpProxy_1.LOG': truncated, 'b/HttpProxy_2.LOG': withHuge }));
    expect(h.findings.map((f) => [f.source.path, f.source.line])).toEqual([
      ['a/HttpProxy_1.LOG', 7],
      ['b/HttpProxy_2.LOG', 8],
    ]);
    expect(h.findings[0].evidence.status).toBeNull(); // the status column was cut off
    expect(h.skipped).toContainEqual({ path: 'b/HttpProxy_2.LOG', line: 7, reason: 'line longer than 16 MiB: not parsed' });
  });

  it('ignores binary and unrelated files, counting them, and reads nothing outside logs', async () => {
    const h = await scanOne(
      hostDir({
        'Logging/HttpProxy/Ecp/HttpProxy_1.LOG': Buffer.from([0x4d, 0x5a, 0x00, 0x01, 0x02]),
        'notes.txt': 'ServerInfo~a]@x/ecp/proxyLogon.ecp?#\n',
        'empty.LOG': '',
      }),
    );
    expect(h.findings).toEqual([]);
    expect(h.coverage).toEqual([]); // no log source was read from them
    expect(h.stats.files_seen).toBe(3);
    expect(h.verdict).toBe('insufficient-evidence');
  });

  it('reports data lines before any header by file and line, and keeps scanning', async () => {
    const h = await scanOne(hostDir({ 'HttpProxy/Ecp/HttpProxy_9.LOG': ['#Log-type: HttpProxy Logs', ATTACK].join('\n') + '\n' }));
    expect(h.skipped).toEqual([{ path: 'HttpProxy/Ecp/HttpProxy_9.LOG', line: 2, reason: 'data before any #Fields or header line' }]);
  });
});

describe('needle prefilter', () => {
  /** The lines a plain case-(in)sensitive search finds, to check the anchor-based finder against. */
  function naive(text: string, needle: string, insensitive: boolean): number[] {
    const starts: number[] = [];
    let pos = 0;
    for (const line of text.split('\n')) {
      const hay = insensitive ? line.toLowerCase() : line;
      if (hay.includes(insensitive ? needle.toLowerCase() : needle)) starts.push(pos);
      pos += line.length + 1;
    }
    return starts;
  }

  it('finds exactly the lines a naive search finds, for random text, needles and case', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'aAbBsSeErRvV~/.@\n ,1';
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: 2000 }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
      const len = 1 + Math.floor(rnd() * 9);
      const start = Math.floor(rnd() * (text.length - len));
      let needle = text.slice(start, start + len).replace(/\n/g, 'x');
      if (rnd() < 0.3) needle = needle.toUpperCase();
      const insensitive = rnd() < 0.5;
      const buf = Buffer.from(text, 'latin1');
      const finder = planFinder({ text: needle, insensitive }, byteHistogram(buf));
      const got: number[] = [];
      collectNeedleLines(buf, finder, got);
      expect([...new Set(got)].sort((a, b) => a - b), `${JSON.stringify(needle)} insensitive=${insensitive}`).toEqual(naive(text, needle, insensitive));
    }
  });

  it('anchors each needle at its rarest byte, with case variants for an insensitive one', () => {
    const hist = byteHistogram(Buffer.from('SSSSSSSSeeeeeeerrrrrrrvvvvvvvIn~~~~', 'latin1'));
    const f = planFinder({ text: 'ServerInfo~', insensitive: false }, hist);
    expect(f.offset).toBe(8); // 'f' never occurs in the sample
    expect(f.anchors.map((a) => a.toString())).toEqual(['fo~']);
    const g = planFinder({ text: 'autodiscover.json', insensitive: true }, byteHistogram(Buffer.from(`${'a'.repeat(1000)}${'.'.repeat(100_000)}${'u'.repeat(1000)}`, 'latin1')));
    expect(g.anchors.map((a) => a.toString())).toEqual(['t', 'T']);
  });

  it('drops needles another needle already covers', () => {
    const set = compileNeedles([
      { needles: ['ServerInfo~', 'Server~'], needleCase: 'exact' },
      { needles: ['VirtualDirectory', 'Set-OabVirtualDirectory'] },
      { needles: ['VIRTUALDIRECTORY.'], needleCase: 'exact' },
    ]);
    expect(set.needles.map((n) => n.text).sort()).toEqual(['ServerInfo~', 'Server~', 'VirtualDirectory']);
  });
});

describe('line dispatcher', () => {
  // simd: the wasm all16 pass (where this runtime has WebAssembly SIMD), else the JS byte loop: same answers.
  it.each([true, false])('sends a line to exactly the rules whose needles it contains, in any case for insensitive rules (simd %s)', (simd) => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'aAbBcC$ ./~=1';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    for (let round = 0; round < 400; round++) {
      const rules = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => ({
        id: `R${i}`,
        needles: Array.from({ length: Math.floor(rnd() * 3) }, () => word(1 + Math.floor(rnd() * 4))),
        needleCase: rnd() < 0.5 ? ('exact' as const) : undefined,
      }));
      const d = new LineDispatcher(rules as unknown as RecordRule[], { simd });
      const line = word(Math.floor(rnd() * 40));
      const buf = Buffer.from(`xx\n${line}\nyy`, 'latin1');
      const got = d.rulesFor(buf, 3, 3 + line.length).map((r) => r.id);
      const want = rules
        .filter((r) => r.needles.length === 0 || r.needles.some((n) => (r.needleCase === 'exact' ? line.includes(n) : line.toLowerCase().includes(n.toLowerCase()))))
        .map((r) => r.id);
      expect(got, `${JSON.stringify(line)} ${JSON.stringify(rules)}`).toEqual(want);
    }
  });

  // shared: the SIMD pass comes from the line finder's plan (LineDispatcher.shareFinder), as in the text scanner.
  it.each([false, true])('answers the same before and after it switches to the SIMD pass (planned after many lines; shared %s)', (shared) => {
    let seed = 31;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'aAbB .~=/';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    const rules = Array.from({ length: 12 }, (_, i) => ({ id: `R${i}`, needles: [word(2 + (i % 3)), word(3)], needleFields: i % 2 ? ['f1', 'f2'] : undefined }));
    const auto = new LineDispatcher(rules as unknown as RecordRule[]);
    const js = new LineDispatcher(rules as unknown as RecordRule[], { simd: false });
    if (shared) {
      const sample = Buffer.from(Array.from({ length: 200 }, () => word(40)).join('\n'), 'latin1');
      const mf = planMultiFinder(compileNeedles(rules).needles, byteHistogram(sample), { mode: 'simd' });
      collectLines(mf, sample, []);
      auto.shareFinder(mf);
    }
    const names = ['f0', 'f1', 'f2', 'f3'];
    const [ma, mj] = [auto.fieldMasks(names, 32), js.fieldMasks(names, 32)];
    let differs = 0;
    let sent = 0;
    for (let k = 0; k < 25_000; k++) {
      const line = word(Math.floor(rnd() * 60));
      const buf = Buffer.from(`x\n${line}\n`, 'latin1');
      const a = auto.rulesFor(buf, 2, 2 + line.length, ma).map((r) => r.id).join();
      if (a !== js.rulesFor(buf, 2, 2 + line.length, mj).map((r) => r.id).join()) differs++;
      // The separators of the line, which the text scanner's field tests rely on, both ways.
      if (auto.separators() !== line.split(' ').length - 1 || js.separators() !== auto.separators()) differs++;
      if (a) sent++;
    }
    expect(differs).toBe(0);
    expect(sent).toBeGreaterThan(5000);
  });

  it.each([true, false])('with a field layout, hands a rule only lines whose needles start in its fields (all fields when malformed; simd %s)', (simd) => {
    let seed = 23;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'aAbB .~=';
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    const names = ['f0', 'f1', 'f2', 'f3'];
    const fieldAt = (line: string, p: number) => line.slice(0, p).split(' ').length - 1;
    const occurs = (line: string, n: string, fields: number[] | null) => {
      const l = line.toLowerCase();
      const x = n.toLowerCase();
      for (let p = l.indexOf(x); p !== -1; p = l.indexOf(x, p + 1)) if (fields === null || x.includes(' ') || fields.includes(fieldAt(line, p))) return true;
      return false;
    };
    let placed = 0;
    for (let round = 0; round < 600; round++) {
      const rules = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => ({
        id: `R${i}`,
        needles: Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => word(1 + Math.floor(rnd() * 3))),
        needleFields: rnd() < 0.7 ? ['f0', 'f1', 'f2', 'f3', 'nope'].filter(() => rnd() < 0.4) : undefined,
      }));
      const d = new LineDispatcher(rules as unknown as RecordRule[], { simd });
      const masks = d.fieldMasks(names, 32);
      const line = word(Math.floor(rnd() * 30));
      const wellFormed = line.split(' ').length === names.length;
      if (wellFormed) placed++;
      const buf = Buffer.from(`xx\n${line}\nyy`, 'latin1');
      const got = d.rulesFor(buf, 3, 3 + line.length, masks).map((r) => r.id);
      const want = rules
        .filter((r) => {
          const fields = (r.needleFields ?? []).map((f) => names.indexOf(f)).filter((k) => k >= 0);
          return r.needles.some((n) => occurs(line, n, wellFormed && fields.length ? fields : null));
        })
        .map((r) => r.id);
      expect(got, `${JSON.stringify(line)} ${JSON.stringify(rules)}`).toEqual(want);
    }
    expect(placed).toBeGreaterThan(50);
  });
});
