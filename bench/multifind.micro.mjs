// Micro-benchmark of the line prefilter over one 4 MiB chunk of a HttpProxy log, with the httpproxy rule needles:
// the per-needle indexOf path (needles.ts) against the multi-needle finder (multifind.ts). Not a test.
//
//   npm run build && node bench/multifind.micro.mjs [FILE]
//
// FILE defaults to the bench corpus (node bench/httpproxy.bench.mjs generates it). Prints best and median GB/s.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const FILE = process.argv[2] ?? join(REPO, 'bench/.corpus/httpproxy/Logging/HttpProxy/Eas/HttpProxy_2021030304-1.LOG');
const CHUNK = 4 * 1024 * 1024;
const RUNS = Number(process.env.RUNS ?? 40);
const load = (m) => import(pathToFileURL(join(REPO, 'dist', 'engine', m)).href);
const { RECORD_RULES } = await load('registry.js');
const { byteHistogram, collectNeedleLines, compileNeedles, planFinder } = await load('needles.js');
const { collectLines, planMultiFinder } = await load('multifind.js');

const whole = readFileSync(FILE);
const start = whole.indexOf(10, Math.min(whole.length - 1, 1024 * 1024)) + 1; // past the header, on a line start
const end = whole.lastIndexOf(10, start + CHUNK - 1) + 1;
const chunk = Buffer.from(whole.subarray(start, end));
const hist = byteHistogram(chunk.subarray(0, 1024 * 1024));
const { needles } = compileNeedles(RECORD_RULES.filter((r) => r.formats.includes('httpproxy')));

const sorted = (a) => [...new Set(a)].sort((x, y) => x - y);
const gbs = (s) => (chunk.length / s / 1e9).toFixed(2);

function bench(title, needles) {
  const finders = needles.map((n) => planFinder(n, hist));
  const variants = {
    'old (indexOf per needle)': (out) => {
      for (const f of finders) collectNeedleLines(chunk, f, out);
    },
  };
  for (const mode of ['auto', 'simd']) {
    const mf = planMultiFinder(needles, hist, { mode });
    variants[`new ${mode} (${mf.single.length} single, ${needles.length - mf.single.length} simd)`] = (out) => collectLines(mf, chunk, out);
  }
  console.log(`\n${title}: ${needles.length} needles, ${(chunk.length / 1048576).toFixed(2)} MiB chunk, best/median of ${RUNS}`);
  let ref = null;
  for (const [label, fn] of Object.entries(variants)) {
    const out = [];
    fn(out);
    const lines = sorted(out);
    ref ??= lines;
    if (JSON.stringify(lines) !== JSON.stringify(ref)) throw new Error(`${label}: found other lines than the old path`);
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      fn([]);
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    times.sort((a, b) => a - b);
    console.log(`  ${label.padEnd(36)} best ${gbs(times[0]).padStart(6)} GB/s  median ${gbs(times[times.length >> 1]).padStart(6)} GB/s  (${lines.length} lines)`);
  }
}

console.log(FILE);
bench('httpproxy rule needles', needles);
bench('the same without the IPs', needles.filter((n) => !/^[\d.]+$/.test(n.text)));
bench('two IPs', needles.filter((n) => /^[\d.]+$/.test(n.text)).slice(0, 2));
