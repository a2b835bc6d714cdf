// Fuzzing: seeded random mutations of real sample files must never hang or throw; damage is reported as problems.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { needExternal } from './support/external.js';
import { readEvtxBuffer, readXmlExportStream, renderXml, type EvtxProblem } from '../src/parsers/evtx/index.js';

const RS = 'evtx-rs-samples';
const SEEDS = ['MSExchange_Management_wec.evtx', 'Application_no_crc32.evtx', 'Security_short_selected.evtx', 'new-user-security.evtx', 'E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx', 'sysmon.evtx'];

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte flips, random bytes, zeroed or copied runs, and truncation, mostly inside the record data. */
function mutate(src: Buffer, rnd: () => number): Buffer {
  const buf = Buffer.from(src);
  const int = (n: number) => Math.floor(rnd() * n);
  const at = () => (rnd() < 0.9 ? 4096 + 512 + int(Math.min(buf.length - 4608, 8192)) : int(buf.length));
  for (let k = 1 + int(8); k > 0; k--) {
    const p = at();
    switch (int(5)) {
      case 0: buf[p] ^= 1 << int(8); break;
      case 1: buf[p] = int(256); break;
      case 2: buf.fill(0, p, Math.min(buf.length, p + int(64))); break;
      case 3: { const s = at(); buf.copy(buf, p, s, Math.min(buf.length, s + int(32))); break; }
      default: buf.writeUInt32LE(int(2) ? 0xffffffff : int(0x10000), Math.min(p, buf.length - 4));
    }
  }
  return rnd() < 0.1 ? buf.subarray(0, int(buf.length)) : buf;
}

type Ctx = Parameters<typeof needExternal>[0];
const seeds = (ctx: Ctx) => SEEDS.map((f) => readFileSync(needExternal(ctx, `${RS}/${f}`)));

describe('EVTX fuzzing', () => {
  // A generous timeout: the suite shares 2 cores with other jobs; a real hang never ends, so it still fails.
  it('2000 mutated files: no exception, no hang, every record still well-formed', { timeout: 300_000 }, (ctx) => {
    const samples = seeds(ctx);
    const rnd = prng(20210302);
    let records = 0;
    let problems = 0;
    for (let i = 0; i < 2000; i++) {
      const input = mutate(samples[i % samples.length], rnd);
      const found: EvtxProblem[] = [];
      for (const e of readEvtxBuffer(input, found)) {
        expect(typeof e.record).toBe('number');
        renderXml(e.xml); // rendering must not throw either
        records++;
      }
      for (const p of found) expect(p.offset).toBeGreaterThanOrEqual(0);
      problems += found.length;
    }
    // The mutations do hit the parser: most records survive, and damage is reported rather than thrown.
    expect(records).toBeGreaterThan(10_000);
    expect(problems).toBeGreaterThan(500);
  });

  it('mutated XML exports: no exception', async (ctx) => {
    const rnd = prng(42);
    const events = [...readEvtxBuffer(seeds(ctx)[4], [])].slice(0, 40);
    const text = Buffer.from(`<Events>${events.map((e) => renderXml(e.xml)).join('')}</Events>`, 'utf8');
    let parsed = 0;
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.from(text);
      for (let k = 1 + Math.floor(rnd() * 6); k > 0; k--) buf[Math.floor(rnd() * buf.length)] = '<>/"=&x '.charCodeAt(Math.floor(rnd() * 8));
      async function* blocks() {
        yield buf.subarray(0, buf.length >> 1);
        yield buf.subarray(buf.length >> 1);
      }
      for await (const batch of readXmlExportStream(blocks(), [])) parsed += batch.length;
    }
    expect(parsed).toBeGreaterThan(300 * 30);
  });
});
