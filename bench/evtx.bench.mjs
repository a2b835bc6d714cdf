// EVTX reader throughput vs libevtx's evtxexport over the same files in the same run (records/s), and peak RSS.
// Needs `npm run build` first (npm run bench does it) and evtxexport (scripts/setup-test-deps.sh).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestOf, importDist, requireDist } from './lib.mjs';

requireDist();
const { readEventLog } = await importDist('parsers', 'evtx', 'index.js');

const SAMPLES = fileURLToPath(new URL('../../shared/data/external/evtx-rs-samples/', import.meta.url));
const ROUNDS = 5;

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

function evtxexportOnce() {
  let records = 0;
  for (const f of files) {
    const r = spawnSync('evtxexport', [f], { encoding: 'latin1', maxBuffer: 1 << 30 });
    records += (r.stdout.match(/^Event number/gm) ?? []).length;
  }
  return records;
}

async function time(fn) {
  const { value: records, seconds } = await bestOf(ROUNDS, fn);
  return { records, seconds, rate: records / seconds };
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

await exhuntOnce(); // warm-up (JIT)
const ours = await time(() => exhuntOnce());
const rssSamples = process.resourceUsage().maxRSS / 1024;
const big = bigFile();
const t0 = process.hrtime.bigint();
const bigRecords = await exhuntOnce([big.path]);
const bigSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rssBig = process.resourceUsage().maxRSS / 1024;
rmSync(big.dir, { recursive: true });
console.log(`files: ${files.length}, ${(bytes / 1048576).toFixed(1)} MiB; best of ${ROUNDS} rounds`);
console.log(`exhunt evtx : ${ours.records} records in ${ours.seconds.toFixed(3)} s = ${Math.round(ours.rate)} records/s`);
console.log(`big file    : 256 MiB, ${bigRecords} records in ${bigSeconds.toFixed(2)} s = ${Math.round(bigRecords / bigSeconds)} records/s`);
console.log(`peak RSS    : ${rssSamples.toFixed(0)} MiB after the samples, ${rssBig.toFixed(0)} MiB after streaming the 256 MiB file (before evtxexport runs)`);
if (spawnSync('evtxexport', ['-h']).error) {
  console.log('evtxexport  : not installed (scripts/setup-test-deps.sh), no ratio');
} else {
  const ref = await time(evtxexportOnce);
  console.log(`evtxexport  : ${ref.records} records in ${ref.seconds.toFixed(3)} s = ${Math.round(ref.rate)} records/s`);
  const ratio = ours.rate / ref.rate;
  console.log(`ratio       : ${ratio.toFixed(1)}x evtxexport (issue-16 target >= 15x: ${ratio >= 15 ? 'met' : 'NOT met'})`);
}
