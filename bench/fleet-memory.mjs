// Fleet memory (issue 17, streaming results): `exhunt scan --hosts-from` over a generated fleet with every output on
// (--json, --ndjson --ndjson-hosts, --csv, --html, --timesketch, --stix), reporting peak RSS (worker threads
// included), wall time, output sizes and whether each output is complete. Two runs:
//   fleet  FLEET_HOSTS (50) hosts × FLEET_FINDINGS (32,000) PL-04 findings each = 1.6M findings;
//   files  one host with FLEET_FILES (200,000) unknown pages in aspnet_client.
// Not part of `npm run bench` (it writes ~1 GB of evidence): `npm run build && node bench/fleet-memory.mjs [fleet|files]`.
//
// Measured on the 2-core shared machine (one run each, --jobs 1, every output on):
//   before streaming (main 91d157e): 4 × 32k: 115 s, 3,105 MB peak RSS; 10 × 20k: 231 s, 2,598 MB, exit 2
//     "Invalid string length", no NDJSON/Timesketch/STIX; 50 × 32k not attempted (extrapolates to > 20 GB).
//   after: 4 × 32k: 12.6 s, 316 MB; 50 × 32k (1.6M findings): 132 s, 400 MB, all outputs, 100 rows for 1,600,050.
//   grouping in the log scanners (docs/reports.md table): 50 × 32k: 80 s, 215 MB (--jobs 1), 261 MB (--jobs 2);
//     200,000 files: 359 MB (--jobs 1), 258 MB (--jobs 2).
//   heap growth bounded to 50% in every thread (src/cli/heap.ts): 50 × 32k --jobs 2: 228 → 184–209 MB;
//     200,000 files: 360 → 192–195 MB (--jobs 1), 266 → 225–227 MB (--jobs 2).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, requireDist, time } from './lib.mjs';
import { makeFleet } from './fleet-gen.mjs';

requireDist();
// FLEET_CLI: another build's dist/cli/main.js, to measure before/after on the same corpus.
const CLI = process.env.FLEET_CLI ?? join(REPO, 'dist', 'cli', 'main.js');
const which = process.argv[2] ?? 'both';
const jobs = process.env.FLEET_JOBS ?? '1';
const root = process.env.FLEET_DIR ?? join(tmpdir(), 'exhunt-fleet-memory');

function corpus(name, spec) {
  const dir = join(root, name);
  const stamp = join(dir, '.spec.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(spec)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  makeFleet(dir, spec);
  writeFileSync(stamp, JSON.stringify(spec));
  console.log(`generated ${name} ${JSON.stringify(spec)} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return dir;
}

function size(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((s, n) => s + size(join(p, n)), 0);
}

function run(name, dir) {
  const out = join(root, `${name}-out`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const args = ['scan', '--hosts-from', dir, '-q', '--jobs', jobs, '--json', join(out, 'r.json'), '--ndjson', join(out, 'r.ndjson'), '--ndjson-hosts', '--csv', join(out, 'csv'), '--html', join(out, 'r.html'), '--timesketch', join(out, 'r.jsonl'), '--stix', join(out, 'r.stix.json')];
  const { ms, r } = time('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, CLI, ...args]);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr);
  console.log(`${name}: exit ${r.status}, ${(ms / 1000).toFixed(1)} s, peak RSS ${m ? (Number(m[1]) / 1024).toFixed(0) : '?'} MB (--jobs ${jobs})`);
  const tail = r.stderr.replace(/maxrss_kb=\d+\s*$/, '').trim();
  if (tail) console.log(`  stderr: ${tail.slice(-400)}`);
  for (const f of ['r.json', 'r.ndjson', 'csv', 'r.html', 'r.jsonl', 'r.stix.json']) {
    const p = join(out, f);
    console.log(`  ${f.padEnd(12)} ${existsSync(p) ? `${(size(p) / 1e6).toFixed(1)} MB` : 'MISSING'}`);
  }
  const json = join(out, 'r.json');
  if (existsSync(json) && size(json) < 512e6) {
    try {
      const rep = JSON.parse(readFileSync(json, 'utf8'));
      const total = rep.hosts.reduce((s, h) => s + h.findings.reduce((t, f) => t + (f.group?.count ?? 1), 0), 0);
      const incidents = rep.hosts.reduce((s, h) => s + h.incidents.length, 0);
      console.log(`  JSON: ${rep.hosts.length} hosts, ${rep.hosts.reduce((s, h) => s + h.findings.length, 0)} finding rows standing for ${total} findings, ${incidents} incidents`);
    } catch (err) {
      console.log(`  JSON not readable: ${err.message}`);
    }
  }
  rmSync(out, { recursive: true, force: true });
}

if (which === 'fleet' || which === 'both') {
  const hosts = Number(process.env.FLEET_HOSTS ?? 50);
  const findings = Number(process.env.FLEET_FINDINGS ?? 32_000);
  run(`fleet-${hosts}x${findings}`, corpus(`fleet-${hosts}x${findings}`, { hosts, findings }));
}
if (which === 'files' || which === 'both') {
  const files = Number(process.env.FLEET_FILES ?? 200_000);
  run(`files-${files}`, corpus(`files-${files}`, { hosts: 1, findings: 0, files }));
}
