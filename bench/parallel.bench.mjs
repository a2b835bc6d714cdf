// Issue 16 "every core": one huge IIS log (a single file, as a busy front end writes in a day) scanned by `exhunt
// scan --jobs 1` and `--jobs N` (every core), against `rg -j1` / `rg -jN` with the rules' needles over the same
// file, same run, warm cache. Prints throughput, the speed-up and the per-worker efficiency (speed-up / workers),
// and checks that every run reports exactly the planted lines (line numbers are exact across ranges). Then the same
// for one 256 MiB .evtx (security.evtx's chunks repeated, from ../shared): 1 and N workers, records/s, the same
// records and findings in every run (a binary event log is cut at its 64 KiB chunks).
//
//   npm run bench parallel
//   EXHUNT_BENCH_HUGE_GB=2 node bench/parallel.bench.mjs
//
// Corpus: bench/.corpus/iis-huge/ (gitignored): one u_ex file of ~EXHUNT_BENCH_HUGE_GB GB (default 1) of the
// realistic front-end mix of bench/traffic.mjs, one attack line planted per ~50 MB. With workers exhunt cuts the
// file into ~64 MiB byte ranges (src/engine/ranges.ts); with one it reads it in this thread.
import { join } from 'node:path';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cachedCorpus, checkFindings, CORES, corpusFiles, envGb, LOG_BENCH, plantState, printMismatch, recordRules, REPO, requireDist, rng, time, timeScan, warm, writeLogFile } from './lib.mjs';
import { IIS_FIELDS, iisAttacks, iisPools } from './traffic.mjs';
import { fileURLToPath } from 'node:url';

requireDist();
const CORPUS = join(REPO, 'bench', '.corpus', 'iis-huge');
const GB = envGb('EXHUNT_BENCH_HUGE_GB', 1);
const RUNS = 2;

const manifest = cachedCorpus(CORPUS, { version: 1, gb: GB, seed: 20210307 }, () => {
  const r = rng(20210307);
  const { front } = iisPools(r, 4096);
  const rows = iisAttacks(r);
  const out = corpusFiles(CORPUS);
  const rel = 'inetpub/logs/LogFiles/W3SVC1/u_ex210303.log';
  const head = `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2021-03-03 00:00:00\r\n#Fields: ${IIS_FIELDS}\r\n`;
  const times = { startMs: Date.parse('2021-03-03T00:00:00Z'), spanMs: 86_400_000, stamp: (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ') };
  out.add(rel, writeLogFile(join(CORPUS, rel), head, front, GB * 1e9, { rows, every: LOG_BENCH.plantEvery, state: plantState(r, LOG_BENCH.plantEvery) }, times, r));
  return out.manifest();
});

const rules = await recordRules(['iis']);
const needles = [...new Set(rules.flatMap((rule) => rule.needles.map((x) => x.toLowerCase())))];
warm(CORPUS);
const json = join(tmpdir(), `exhunt-parallel-${process.pid}.json`);
const workers = [...new Set([1, CORES])];
const rows = [];
let ok = true;
try {
  for (const n of workers) {
    let ex = Infinity;
    let rss = 0;
    let rg = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const s = timeScan(CORPUS, json, n);
      ex = Math.min(ex, s.ms);
      rss = Math.max(rss, s.rssMb);
      const check = checkFindings(JSON.parse(readFileSync(json, 'utf8')), manifest.planted);
      if (!check.ok) {
        ok = false;
        console.log(`--jobs ${n}: MISMATCH`);
        printMismatch(check);
      }
      const g = time('rg', ['-c', '-F', '-i', `-j${n}`, ...needles.flatMap((x) => ['-e', x]), CORPUS]);
      if (g.r.status !== 0 && g.r.status !== 1) throw new Error(`rg failed: ${g.r.stderr}`);
      rg = Math.min(rg, g.ms);
    }
    rows.push({ n, ex, rss, rg });
  }
} finally {
  rmSync(json, { force: true });
}
const mb = manifest.bytes / 1e6;
const one = rows[0];
console.log(`\ncorpus   one ${(manifest.bytes / 1e9).toFixed(2)} GB IIS file, ${manifest.planted.length} planted attack lines; ${CORES} cores; best of ${RUNS}, warm cache`);
console.log('workers  exhunt MB/s  speed-up  per-worker efficiency  rg MB/s  rg speed-up  exhunt/rg  peak RSS');
for (const r of rows) {
  const up = one.ex / r.ex;
  console.log(`${String(r.n).padEnd(9)}${(mb / (r.ex / 1000)).toFixed(0).padEnd(13)}${up.toFixed(2).padEnd(10)}${(up / r.n).toFixed(2).padEnd(23)}${(mb / (r.rg / 1000)).toFixed(0).padEnd(9)}${(one.rg / r.rg).toFixed(2).padEnd(13)}${(r.rg / r.ex).toFixed(2).padEnd(11)}${r.rss.toFixed(0)} MB`);
}
console.log(`findings: every run reported exactly the ${manifest.planted.length} planted lines: ${ok ? 'yes' : 'NO'}`);
if (!(await evtxCase())) ok = false;
if (!ok) process.exit(1);

/** One 256 MiB .evtx at 1 and N workers: records/s and the same records and findings in every run. */
async function evtxCase() {
  const sample = fileURLToPath(new URL('../../shared/data/external/evtx-rs-samples/security.evtx', import.meta.url));
  if (!existsSync(sample)) {
    console.log('\nEVTX: ../shared/data/external/evtx-rs-samples/security.evtx not beside the repo, skipped');
    return true;
  }
  const dir = join(REPO, 'bench', '.corpus', 'evtx-huge', 'Windows', 'System32', 'winevt', 'Logs');
  const path = join(dir, 'Security.evtx');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const src = readFileSync(sample);
    const fd = openSync(path, 'w');
    writeSync(fd, src.subarray(0, 4096));
    for (let written = 0; written < 256 * 1048576; written += src.length - 4096) writeSync(fd, src.subarray(4096));
    closeSync(fd);
  }
  const corpus = join(REPO, 'bench', '.corpus', 'evtx-huge');
  warm(corpus);
  const out = join(tmpdir(), `exhunt-parallel-evtx-${process.pid}.json`);
  const rows = [];
  let same = true;
  let first = null;
  try {
    for (const n of workers) {
      let ms = Infinity;
      let rss = 0;
      for (let i = 0; i < RUNS; i++) {
        const s = timeScan(corpus, out, n);
        ms = Math.min(ms, s.ms);
        rss = Math.max(rss, s.rssMb);
        const host = JSON.parse(readFileSync(out, 'utf8')).hosts[0];
        const seen = JSON.stringify({ coverage: host.coverage, findings: host.findings.map((f) => [f.rule, f.source]) });
        first ??= seen;
        if (seen !== first) same = false;
      }
      rows.push({ n, ms, rss });
    }
  } finally {
    rmSync(out, { force: true });
  }
  const records = JSON.parse(first).coverage.reduce((s, c) => s + c.records, 0);
  console.log(`\ncorpus   one 256 MiB .evtx (security.evtx's chunks repeated), ${records} records; best of ${RUNS}, warm cache`);
  console.log('workers  records/s  speed-up  per-worker efficiency  peak RSS');
  for (const r of rows) {
    const up = rows[0].ms / r.ms;
    console.log(`${String(r.n).padEnd(9)}${Math.round(records / (r.ms / 1000)).toString().padEnd(11)}${up.toFixed(2).padEnd(10)}${(up / r.n).toFixed(2).padEnd(23)}${r.rss.toFixed(0)} MB`);
  }
  console.log(`records and findings identical in every run: ${same ? 'yes' : 'NO'}`);
  return same;
}
