// Micro-benchmark of the line prefilter over one 4 MiB chunk of a HttpProxy log with the httpproxy rule needles, and
// of an IIS log with the IIS rule needles: the per-needle indexOf path (needles.ts) against the multi-needle finder
// (multifind.ts). Not a test.
//
//   npm run build && node bench/multifind.micro.mjs [httpproxy|iis|all] [FILE]
//
// FILE defaults to the bench corpus (node bench/httpproxy.bench.mjs and node bench/iis.bench.mjs generate it).
// Prints best and median GB/s, and the plan of the SIMD pass (needles per bucket) with MULTIFIND_PLAN=1.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const WHICH = process.argv[2] ?? 'all';
const FILES = {
  httpproxy: join(REPO, 'bench/.corpus/httpproxy/Logging/HttpProxy/Eas/HttpProxy_2021030304-1.LOG'),
  iis: join(REPO, 'bench/.corpus/iis/inetpub/logs/LogFiles/W3SVC1/u_ex210304.log'),
};
const CHUNK = 4 * 1024 * 1024;
const RUNS = Number(process.env.RUNS ?? 40);
const load = (m, dir = 'search') => import(pathToFileURL(join(REPO, 'dist', dir, m)).href);
const RECORD_RULES = (await load('ruleset.js', 'rules')).defaultRuleSet().recordRules;
const { byteHistogram, collectNeedleLines, compileNeedles, planFinder } = await load('needles.js');
const { collectLines, planMultiFinder } = await load('multifind.js');

const sorted = (a) => [...new Set(a)].sort((x, y) => x - y);

function loadChunk(file) {
  const whole = readFileSync(file);
  const start = whole.indexOf(10, Math.min(whole.length - 1, 1024 * 1024)) + 1; // past the header, on a line start
  const end = whole.lastIndexOf(10, start + CHUNK - 1) + 1;
  const chunk = Buffer.from(whole.subarray(start, end));
  return { chunk, hist: byteHistogram(chunk.subarray(0, 1024 * 1024)) };
}

function bench(title, { chunk, hist }, needles, { old = true } = {}) {
  const gbs = (s) => (chunk.length / s / 1e9).toFixed(2);
  const finders = needles.map((n) => planFinder(n, hist));
  const variants = {};
  const ref = [];
  for (const f of finders) collectNeedleLines(chunk, f, ref);
  if (old) variants['old (indexOf per needle)'] = (out) => {
    for (const f of finders) collectNeedleLines(chunk, f, out);
  };
  for (const mode of ['auto', 'simd']) {
    const mf = planMultiFinder(needles, hist, { mode });
    // The plan is completed from the first buffer searched.
    collectLines(mf, chunk, []);
    if (process.env.MULTIFIND_PLAN && mf.simd) {
      console.log(`  plan ${mode}: single ${JSON.stringify(mf.single.map((f) => f.needle.toString('latin1')))}`);
      mf.simd.buckets.forEach((b, i) => b.length && console.log(`    bucket ${i}: ${b.map((n) => JSON.stringify(n.f.needle.toString('latin1').slice(n.fp, n.fp + 3))).join(' ')}`));
    }
    variants[`new ${mode} (${mf.single.length} single, ${needles.length - mf.single.length} simd)`] = (out) => collectLines(mf, chunk, out);
  }
  console.log(`\n${title}: ${needles.length} needles, ${(chunk.length / 1048576).toFixed(2)} MiB chunk, best/median of ${RUNS}`);
  const want = JSON.stringify(sorted(ref));
  for (const [label, fn] of Object.entries(variants)) {
    const out = [];
    fn(out);
    const lines = sorted(out);
    if (JSON.stringify(lines) !== want) throw new Error(`${label}: found other lines than the old path`);
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

const rulesFor = (format) => compileNeedles(RECORD_RULES.filter((r) => r.formats.includes(format))).needles;

if (WHICH === 'httpproxy' || WHICH === 'all') {
  const file = (WHICH === 'httpproxy' && process.argv[3]) || FILES.httpproxy;
  const data = loadChunk(file);
  const needles = rulesFor('httpproxy');
  console.log(file);
  bench('httpproxy rule needles', data, needles);
  bench('the same without the IPs', data, needles.filter((n) => !/^[\d.]+$/.test(n.text)));
  bench('two IPs', data, needles.filter((n) => /^[\d.]+$/.test(n.text)).slice(0, 2));
}
if (WHICH === 'iis' || WHICH === 'all') {
  const file = (WHICH === 'iis' && process.argv[3]) || FILES.iis;
  const data = loadChunk(file);
  const needles = rulesFor('iis');
  console.log(`\n${file}`);
  bench('iis rule needles', data, needles);
  bench('iis rule needles without the user agents', data, needles.filter((n) => n.text.length < 20));
}
