// Issue 16 whole-server bench: one realistic Exchange server end to end — `exhunt scan` of the whole evidence folder
// against the sum of what the reference tools need for the same evidence in the same run: `rg -c -F -i` (the rules'
// needles) over the logs, `evtxexport` over the event logs and `sha256sum` over the install tree (both as many in
// parallel as there are cores). Prints the ratio, and where exhunt's time goes (each part scanned alone).
//
//   npm run bench server        (after the httpproxy and iis benches, whose realistic corpora it reuses)
//   EXHUNT_BENCH_SERVER_FILES=20000 node bench/server.bench.mjs
//
// The server (bench/.corpus/server/MAIL01, gitignored): the realistic HttpProxy + ECP and IIS corpora (hard links,
// no copy; ~EXHUNT_BENCH_GB GB each), the EVTX samples of ../shared/data/external/evtx-rs-samples under
// winevt/Logs (skipped with a note when ../shared is absent), and an Exchange install tree of
// ~EXHUNT_BENCH_SERVER_FILES files (default 50,000: OWA/ECP static scripts and styles per build folder, binaries
// under Bin with a PE header as real DLLs have) with one real web shell planted in owa/auth. Fails unless exhunt
// reports exactly the planted log lines and the planted shell (EVTX findings from the public samples are counted
// apart).
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cachedCorpus, checkFindings, CORES, mulberry32, printMismatch, recordRules, REPO, requireDist, time, timeScan, warm } from './lib.mjs';

requireDist();
const C = join(REPO, 'bench', '.corpus');
const ROOT = join(C, 'server');
const HOST = join(ROOT, 'MAIL01');
const EVTX_SRC = join(REPO, '..', 'shared', 'data', 'external', 'evtx-rs-samples');
const FILES = Number(process.env.EXHUNT_BENCH_SERVER_FILES ?? 50_000);
const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const SHELL = '<%@ Page Language="Jscript"%><%eval(Request.Item["p"],"unsafe");%>'; // China Chopper one-liner (public)
const PARTS = { logs: 'logs', evtx: 'C/Windows/System32/winevt/Logs', install: EX };

const sources = [
  { dir: join(C, 'httpproxy-realistic'), to: EX },
  { dir: join(C, 'iis-realistic'), to: 'C' },
];
for (const s of sources) {
  if (!existsSync(`${s.dir}.manifest.json`)) {
    console.error(`${s.dir} is missing: run the httpproxy and iis benches first (npm run bench runs them before this one).`);
    process.exit(1);
  }
}

function build() {
  const r = mulberry32(16);
  const planted = [];
  let bytes = 0;
  let files = 0;
  const put = (rel, data) => {
    mkdirSync(dirname(join(HOST, rel)), { recursive: true });
    writeFileSync(join(HOST, rel), data);
    bytes += data.length;
    files++;
  };
  // Logs: hard links into logs/ (the part rg reads), laid out as on the server's drive.
  for (const s of sources) {
    const m = JSON.parse(readFileSync(`${s.dir}.manifest.json`, 'utf8'));
    for (const f of m.files) {
      const rel = `${PARTS.logs}/${s.to === 'C' ? 'C' : `${EX}`}/${f.rel}`.replace('//', '/');
      mkdirSync(dirname(join(HOST, rel)), { recursive: true });
      linkSync(join(s.dir, f.rel), join(HOST, rel));
      bytes += f.size;
      files++;
    }
    const prefix = `${PARTS.logs}/${s.to === 'C' ? 'C' : EX}/`;
    for (const p of m.planted) planted.push(prefix + p);
  }
  // Event logs.
  if (existsSync(EVTX_SRC)) {
    for (const f of readdirSync(EVTX_SRC).filter((x) => x.endsWith('.evtx'))) {
      mkdirSync(join(HOST, PARTS.evtx), { recursive: true });
      copyFileSync(join(EVTX_SRC, f), join(HOST, PARTS.evtx, f));
      bytes += statSync(join(EVTX_SRC, f)).size;
      files++;
    }
  }
  // Install tree: static OWA/ECP resources per build folder, and binaries.
  const word = () => ['function', 'var', 'return', 'this', 'items', 'render', 'layout', 'color', 'margin', 'div'][Math.floor(r() * 10)];
  const text = (n) => Array.from({ length: Math.ceil(n / 7) }, word).join(' ').slice(0, n);
  const builds = ['15.1.2375', '15.1.2507', '15.1.2507.6'];
  const dirs = builds.flatMap((b) => [`FrontEnd/HttpProxy/owa/auth/${b}/scripts`, `FrontEnd/HttpProxy/owa/auth/${b}/themes/resources`, `ClientAccess/owa/prem/${b}/scripts`, `ClientAccess/owa/prem/${b}/resources/styles`, `ClientAccess/ecp/${b}/scripts`]);
  const bin = Buffer.alloc(64 * 1024);
  for (let i = 0; i < bin.length; i += 4) bin.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
  // A DLL starts as every PE file does: "MZ", e_lfanew at 0x3c, "PE\0\0" there (Microsoft PE/COFF specification).
  bin.write('MZ', 0, 'latin1');
  bin.writeUInt32LE(0x80, 0x3c);
  bin.write('PE\0\0', 0x80, 'latin1');
  for (let i = 0; i < FILES; i++) {
    if (i % 10 === 0) put(`${EX}/Bin/Microsoft.Exchange.Module${i}.dll`, bin.subarray(0, 8192 + Math.floor(r() * 56000)));
    else {
      const ext = r() < 0.6 ? '.js' : '.css';
      put(`${EX}/${dirs[Math.floor(r() * dirs.length)]}/r${i}${ext}`, text(1000 + Math.floor(r() * 7000)));
    }
  }
  put(`${EX}/FrontEnd/HttpProxy/owa/auth/errorEE.aspx`, SHELL);
  planted.push(`${EX}/FrontEnd/HttpProxy/owa/auth/errorEE.aspx`);
  return { bytes, files, planted: planted.sort() };
}

const t0 = performance.now();
const manifest = cachedCorpus(ROOT, { version: 2, files: FILES, sources: sources.map((s) => JSON.parse(readFileSync(`${s.dir}.manifest.json`, 'utf8')).params) }, build, 'planted');
warm(ROOT);

const rules = await recordRules(['iis', 'httpproxy', 'ecp-server', 'oabgen']);
const needles = [...new Set(rules.flatMap((rule) => rule.needles.map((x) => x.toLowerCase())))];
const reference = () => {
  const rg = time('rg', ['-c', '-F', '-i', '--no-ignore', ...needles.flatMap((x) => ['-e', x]), join(HOST, PARTS.logs)]).ms;
  const evtx = existsSync(join(HOST, PARTS.evtx)) ? time('sh', ['-c', `find "${join(HOST, PARTS.evtx)}" -name '*.evtx' -print0 | xargs -0 -n 1 -P ${CORES} evtxexport > /dev/null 2>&1`]).ms : 0;
  const sha = time('sh', ['-c', `find "${join(HOST, PARTS.install)}" -type f -print0 | xargs -0 -n 256 -P ${CORES} sha256sum > /dev/null`]).ms;
  return { rg, evtx, sha, sum: rg + evtx + sha };
};
const json = join(tmpdir(), `exhunt-server-${process.pid}.json`);
let ex = Infinity;
let rss = 0;
let ref = null;
let report;
try {
  for (let i = 0; i < 2; i++) {
    const s = timeScan(HOST, json);
    if (s.ms < ex) [ex, report] = [s.ms, JSON.parse(readFileSync(json, 'utf8'))];
    rss = Math.max(rss, s.rssMb);
    const r = reference();
    if (ref === null || r.sum < ref.sum) ref = r;
  }
  // Where exhunt's time goes: each part alone (one run each).
  var parts = Object.fromEntries(Object.entries(PARTS).filter(([, rel]) => existsSync(join(HOST, rel))).map(([k, rel]) => [k, timeScan(join(HOST, rel), json).ms]));
} finally {
  rmSync(json, { force: true });
}
const key = (f) => (f.source.line === undefined ? f.source.path : `${f.source.path}:${f.source.line}`);
const evtxFindings = report.hosts[0].findings.filter((f) => f.source.path.startsWith(PARTS.evtx));
const rest = { ...report, hosts: [{ ...report.hosts[0], findings: report.hosts[0].findings.filter((f) => !f.source.path.startsWith(PARTS.evtx)) }] };
const check = checkFindings(rest, manifest.planted, key);
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`\nserver   ${(manifest.bytes / 1e9).toFixed(2)} GB in ${manifest.files} files (logs, ${existsSync(join(HOST, PARTS.evtx)) ? 'EVTX samples' : 'no EVTX: ../shared absent'}, install tree of ${FILES} files); ${CORES} cores; best of 2, warm cache`);
// Issue 17: peak RSS under 256 MB for any single input, this whole server included (reported, not a failure).
console.log(`exhunt scan (whole server)   ${s(ex)}   peak RSS ${rss.toFixed(0)} MB (limit 256 MB: ${rss < 256 ? 'ok' : 'EXCEEDED'})`);
console.log(`reference sum                ${s(ref.sum)}   = rg over logs ${s(ref.rg)} + evtxexport ${s(ref.evtx)} + sha256sum over the install tree ${s(ref.sha)}`);
console.log(`ratio    reference/exhunt = ${(ref.sum / ex).toFixed(2)} (1.0 = as fast as running the three tools one after the other)`);
console.log(`where exhunt's time goes (each part scanned alone): ${Object.entries(parts).map(([k, ms]) => `${k} ${s(ms)}`).join(', ')}`);
console.log(`findings ${check.findings} on ${check.found} places (+${evtxFindings.length} from the public EVTX samples); ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted lines and file' : 'MISMATCH'}`);
if (!check.ok) printMismatch(check);
console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (!check.ok) process.exit(1);
