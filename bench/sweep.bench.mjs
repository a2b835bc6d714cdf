// Issue 4 file-sweep speed check: `exhunt scan` over a tree of non-log files against `sha256sum` over the same
// tree (find | xargs -P <cores> sha256sum), same run, warm page cache. `yara -r` is used instead when the yara
// command is installed and EXHUNT_BENCH_YARA=1.
//
//   npm run bench sweep
//   EXHUNT_BENCH_SWEEP_GB=0.5 node bench/sweep.bench.mjs
//
// Corpus: bench/.corpus/sweep/ (gitignored), ~EXHUNT_BENCH_SWEEP_GB GB (default 1.5): a third in ~25,000 small web
// files (js/css/aspx/config, 2–80 KB, under Exchange's ClientAccess folders and an unrelated web app), the rest in
// large binaries (48 MiB each, under ProgramData and Windows\Temp, streamed and hashed). Planted: copies of the
// public web-shell samples (../shared/data/external/tennc-webshell, hamad-she) in the drop zones, and a minidump
// with lsasrv.dll beyond the first read chunk. Fails (exit 1) unless exhunt reports exactly the planted files.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const CORPUS = join(REPO, 'bench', '.corpus', 'sweep');
const SHARED = join(REPO, '..', 'shared', 'data', 'external');
const GB = Number(process.env.EXHUNT_BENCH_SWEEP_GB ?? '1.5');
const RUNS = 3;
const VERSION = 1;
const EX = 'Program Files/Microsoft/Exchange Server/V15';

if (!(GB > 0)) throw new Error('EXHUNT_BENCH_SWEEP_GB must be a positive number');
if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench does).');
  process.exit(1);
}

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function put(rel, data) {
  mkdirSync(dirname(join(CORPUS, rel)), { recursive: true });
  writeFileSync(join(CORPUS, rel), data);
}

function buildCorpus() {
  const manifestPath = `${CORPUS}.manifest.json`;
  const params = { version: VERSION, gb: GB };
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (JSON.stringify(m.params) === JSON.stringify(params) && existsSync(CORPUS)) {
      console.log(`corpus: reusing ${CORPUS}`);
      return m;
    }
  }
  rmSync(CORPUS, { recursive: true, force: true });
  const r = rng(4242);
  const total = GB * 1e9;
  let bytes = 0;
  let files = 0;
  // Small web files: text that looks like code but carries none of the web-shell keywords.
  const word = () => ['function', 'var', 'return', 'this', 'items', 'render', 'layout', 'color', 'margin', 'div', 'span'][Math.floor(r() * 11)];
  const text = (n) => Array.from({ length: Math.ceil(n / 7) }, word).join(' ').slice(0, n);
  const dirs = [`${EX}/ClientAccess/owa/prem/15.1.2176/scripts`, `${EX}/ClientAccess/owa/prem/15.1.2176/resources/styles`, `${EX}/ClientAccess/ecp/15.1.2176/scripts`, 'webapps/intranet/pages', 'webapps/intranet/static'];
  const exts = ['.js', '.css', '.js', '.config', '.aspx'];
  while (bytes < total / 3) {
    const i = Math.floor(r() * dirs.length);
    const ext = dirs[i].startsWith('webapps/intranet/pages') ? '.aspx' : exts[Math.floor(r() * 4)];
    const body = ext === '.aspx' ? `<%@ Page Language="C#" %><html><body>${text(2000 + Math.floor(r() * 20000))}</body></html>` : text(2000 + Math.floor(r() * 78000));
    put(`${dirs[i]}/f${files}${ext}`, body);
    bytes += body.length;
    files++;
  }
  // Large binaries: pseudo-random blocks (nothing for the signatures to find).
  const block = Buffer.alloc(48 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
  for (let k = 0; bytes < total; k++) {
    block.writeUInt32LE(k, 0);
    put(k % 2 ? `ProgramData/Vendor/cache/blob${k}.bin` : `Windows/Temp/data${k}.bin`, block);
    bytes += block.length;
    files++;
  }
  // Planted: real shells in drop zones, and an lsass minidump.
  const planted = [];
  const plant = (src, rel) => {
    mkdirSync(dirname(join(CORPUS, rel)), { recursive: true });
    copyFileSync(src, join(CORPUS, rel));
    planted.push(rel);
  };
  const tennc = join(SHARED, 'tennc-webshell');
  const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const s of walk(tennc).filter((p) => /\.(aspx|ashx)$/i.test(p))) plant(s, `inetpub/wwwroot/aspnet_client/system_web/${relative(tennc, s).replace(/[\\/]/g, '_')}`);
  plant(join(SHARED, 'hamad-she-proxyshell-writeup', 'webshell_vb_cmd_proxyshell_incident.aspx'), `${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx`);
  const dump = Buffer.alloc(6 * 1024 * 1024);
  dump.write('MDMP', 0, 'latin1');
  Buffer.from('C:\\Windows\\System32\\lsasrv.dll', 'utf16le').copy(dump, 5 * 1024 * 1024);
  put('Windows/Temp/CqMebRGC.dmp', dump);
  planted.push('Windows/Temp/CqMebRGC.dmp');
  bytes += dump.length;
  const manifest = { params, files: files + planted.length, bytes, planted: planted.sort() };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  console.log(`corpus: wrote ${manifest.files} files, ${(bytes / 1e9).toFixed(2)} GB, ${planted.length} planted`);
  return manifest;
}

function time(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  return { ms: performance.now() - t0, r };
}

function runReference() {
  const yara = process.env.EXHUNT_BENCH_YARA === '1' && spawnSync('yara', ['--version']).status === 0;
  if (yara) {
    const rules = join(tmpdir(), 'exhunt-bench.yar');
    writeFileSync(rules, 'rule b { strings: $a = "eval(Request" nocase condition: $a }');
    return { name: 'yara -r', ...time('yara', ['-r', '-p', String(availableParallelism()), rules, CORPUS]) };
  }
  // One sha256sum per batch of files, as many in parallel as exhunt has workers.
  const cmd = `find "${CORPUS}" -type f -print0 | xargs -0 -n 256 -P ${availableParallelism()} sha256sum > /dev/null`;
  return { name: `sha256sum (xargs -P ${availableParallelism()})`, ...time('sh', ['-c', cmd]) };
}

function runExhunt(json) {
  const args = [join(REPO, 'dist', 'cli', 'main.js'), 'scan', CORPUS, '--json', json, '-q', '--jobs', String(availableParallelism())];
  const { ms, r } = existsSync('/usr/bin/time') ? time('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, ...args]) : time(process.execPath, args);
  if (r.status !== 0 && r.status !== 1) throw new Error(`exhunt scan failed (${r.status}): ${r.stderr}`);
  const m = /maxrss_kb=(\d+)/.exec(r.stderr);
  return { ms, rssMb: m ? Number(m[1]) / 1024 : NaN };
}

function verify(json, manifest) {
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const host = report.hosts[0];
  const flagged = [...new Set(host.findings.map((f) => f.source.path))].sort();
  const missing = manifest.planted.filter((p) => !flagged.includes(p));
  const extra = flagged.filter((p) => !manifest.planted.includes(p));
  return { ok: missing.length === 0 && extra.length === 0, flagged: flagged.length, rules: [...new Set(host.findings.map((f) => f.rule))].sort(), missing, extra, scanned: host.stats.files_scanned };
}

function warm() {
  spawnSync('sh', ['-c', `find "${CORPUS}" -type f -print0 | xargs -0 cat > /dev/null`]);
}

const t0 = performance.now();
const manifest = buildCorpus();
warm();
const json = join(tmpdir(), `exhunt-bench-sweep-${process.pid}.json`);
const ex = [];
const ref = [];
let check = null;
for (let i = 0; i < RUNS; i++) {
  ex.push(runExhunt(json));
  if (i === 0) check = verify(json, manifest);
  ref.push(runReference());
}
rmSync(json, { force: true });
const mb = manifest.bytes / 1e6;
const best = (xs) => Math.min(...xs.map((x) => x.ms));
const pad = (s, w) => String(s).padEnd(w);
console.log('');
console.log(`corpus   ${(manifest.bytes / 1e9).toFixed(2)} GB in ${manifest.files} files, ${manifest.planted.length} planted; ${availableParallelism()} cores; best of ${RUNS}, warm cache`);
console.log(`${pad('tool', 30)}${pad('best s', 10)}${pad('MB/s', 10)}runs (s)`);
console.log(`${pad('exhunt scan (file sweep)', 30)}${pad((best(ex) / 1000).toFixed(2), 10)}${pad((mb / (best(ex) / 1000)).toFixed(0), 10)}${ex.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}`);
console.log(`${pad(ref[0].name, 30)}${pad((best(ref) / 1000).toFixed(2), 10)}${pad((mb / (best(ref) / 1000)).toFixed(0), 10)}${ref.map((x) => (x.ms / 1000).toFixed(2)).join(' ')}`);
console.log(`ratio    exhunt/${ref[0].name.split(' ')[0]} = ${(best(ref) / best(ex)).toFixed(2)}`);
console.log(`peak RSS exhunt ${Math.max(...ex.map((x) => x.rssMb)).toFixed(0)} MB`);
console.log(`flagged  ${check.flagged} files (${check.rules.join(', ')}), ${check.scanned} files swept; ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted files' : 'MISMATCH'}`);
if (!check.ok) console.log(`  missing: ${check.missing.slice(0, 10).join(', ')}\n  extra:   ${check.extra.slice(0, 10).join(', ')}`);
console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (!check.ok) process.exit(1);
