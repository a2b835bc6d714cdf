// EVTX reader throughput vs libevtx's evtxexport over the same files in the same run (records/s), and peak RSS.
// Needs `npm run build` first (npm run bench does it) and evtxexport (scripts/setup-test-deps.sh).
// The two tools run interleaved, round by round (the order alternating), and each keeps its best round: on a
// shared machine evtxexport's speed swings by a third with the load, and a swing must hit both sides alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importDist, requireDist } from './lib.mjs';

requireDist();
const { readEventLog } = await importDist('parsers', 'evtx', 'index.js');

const SAMPLES = fileURLToPath(new URL('../../shared/data/external/evtx-rs-samples/', import.meta.url));
const ROUNDS = 7;

const files = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.evtx'))
  .map((f) => join(SAMPLES, f));
const bytes = files.reduce((n, f) => n + statSync(f).size, 0);

async function exhuntOnce(list = files) {
  let records = 0;
  for (const abs of list) {
    const st = statSync(abs);
    const file = { kind: 'fs', abs, rel: abs, size: st.size, mtimeMs: st.mtimeMs };
    for await (const batch of readEventLog(file, 'evtx', [])) records += batch.length;
  }
  return records;
}

const TIME = existsSync('/usr/bin/time');

/**
 * Records evtxexport prints for every file, one evtxexport per file as an analyst would run it; with
 * /usr/bin/time, their CPU seconds too (measured around the whole loop: per file, its 10 ms resolution read the
 * small files as 0).
 */
function evtxexportOnce() {
  // Some samples are damaged on purpose: evtxexport exits 1 on them after the records it could read.
  const loop = ['sh', '-c', 'for f in "$@"; do evtxexport "$f"; done; true', 'sh', ...files];
  const r = TIME ? spawnSync('/usr/bin/time', ['-f', 'cpu=%U %S', ...loop], { encoding: 'latin1', maxBuffer: 1 << 30 }) : spawnSync(loop[0], loop.slice(1), { encoding: 'latin1', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`evtxexport failed to run: ${r.stderr.slice(-500)}`);
  const m = /cpu=([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { records: (r.stdout.match(/^Event number/gm) ?? []).length, cpu: m ? Number(m[1]) + Number(m[2]) : null };
}

/** One call of `fn`: its record count, wall seconds and CPU seconds (this process's, unless `fn` reports its own). */
async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const out = await fn();
  const c = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return typeof out === 'number' ? { records: out, seconds, cpu: (c.user + c.system) / 1e6 } : { ...out, seconds };
}

/** `rounds` rounds of each tool, interleaved; per tool its runs, its best round and its least CPU. */
async function interleaved(tools, rounds) {
  const runs = tools.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < tools.length; j++) {
      const k = i % 2 ? tools.length - 1 - j : j;
      runs[k].push(await timed(tools[k]));
    }
  }
  return runs.map((r) => {
    const best = r.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const cpu = r.some((x) => x.cpu === null) ? null : Math.min(...r.map((x) => x.cpu));
    return { runs: r, records: best.records, seconds: best.seconds, rate: best.records / best.seconds, cpu };
  });
}

/** A ~256 MiB file made of security.evtx's chunks repeated: memory must stay flat while streaming it. */
function bigFile() {
  const src = readFileSync(join(SAMPLES, 'security.evtx'));
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtx-bench-'));
  const path = join(dir, 'big.evtx');
  const fd = openSync(path, 'w');
  writeSync(fd, src.subarray(0, 4096));
  const chunks = src.subarray(4096);
  for (let written = 0; written < 256 * 1048576; written += chunks.length) writeSync(fd, chunks);
  closeSync(fd);
  return { path, dir };
}

const hasRef = !spawnSync('evtxexport', ['-h']).error;
await exhuntOnce(); // warm-up (JIT, page cache)
if (hasRef) evtxexportOnce();
const [ours, ref] = await interleaved(hasRef ? [exhuntOnce, evtxexportOnce] : [exhuntOnce], ROUNDS);
const rssSamples = process.resourceUsage().maxRSS / 1024;
const big = bigFile();
const t0 = process.hrtime.bigint();
const bigRecords = await exhuntOnce([big.path]);
const bigSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rssBig = process.resourceUsage().maxRSS / 1024;
rmSync(big.dir, { recursive: true });
const secs = (r) => r.runs.map((x) => x.seconds.toFixed(3)).join(' ');
console.log(`files: ${files.length}, ${(bytes / 1048576).toFixed(1)} MiB; ${ROUNDS} rounds of each tool, interleaved, best round kept`);
console.log(`exhunt evtx : ${ours.records} records in ${ours.seconds.toFixed(3)} s = ${Math.round(ours.rate)} records/s   (runs ${secs(ours)} s)`);
console.log(`big file    : 256 MiB, ${bigRecords} records in ${bigSeconds.toFixed(2)} s = ${Math.round(bigRecords / bigSeconds)} records/s`);
console.log(`peak RSS    : ${rssSamples.toFixed(0)} MiB after the samples (evtxexport runs as a child), ${rssBig.toFixed(0)} MiB after streaming the 256 MiB file`);
if (!ref) {
  console.log('evtxexport  : not installed (scripts/setup-test-deps.sh), no ratio');
} else {
  console.log(`evtxexport  : ${ref.records} records in ${ref.seconds.toFixed(3)} s = ${Math.round(ref.rate)} records/s   (runs ${secs(ref)} s)`);
  const ratio = ours.rate / ref.rate;
  // Each round's own ratio shows how far the load moved it; the best-of-each ratio is the one that counts.
  const pairs = ours.runs.map((o, i) => o.records / o.seconds / (ref.runs[i].records / ref.runs[i].seconds)).sort((a, b) => a - b);
  console.log(`ratio       : ${ratio.toFixed(1)}x evtxexport, best of each (issue-16 target >= 15x: ${ratio >= 15 ? 'met' : 'NOT met'}); round by round ${pairs[0].toFixed(1)}x to ${pairs.at(-1).toFixed(1)}x, median ${pairs[pairs.length >> 1].toFixed(1)}x`);
  // CPU seconds move far less with the load than wall time: the same comparison by records per CPU second.
  if (ours.cpu !== null && ref.cpu !== null) {
    console.log(`by CPU      : exhunt ${Math.round(ours.records / ours.cpu)} records per CPU-s, evtxexport ${Math.round(ref.records / ref.cpu)}: ${(ours.records / ours.cpu / (ref.records / ref.cpu)).toFixed(1)}x (least CPU of each)`);
  }
}
