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
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { cachedCorpus, checkFindings, compareRuns, CORES, envGb, filesUnder, mulberry32, printMismatch, printResults, REPO, requireDist, time, warm } from './lib.mjs';

const CORPUS = join(REPO, 'bench', '.corpus', 'sweep');
const SHARED = join(REPO, '..', 'shared', 'data', 'external');
const GB = envGb('EXHUNT_BENCH_SWEEP_GB', 1.5);
const RUNS = 3;
const VERSION = 1;
const EX = 'Program Files/Microsoft/Exchange Server/V15';

requireDist();

function put(rel, data) {
  mkdirSync(dirname(join(CORPUS, rel)), { recursive: true });
  writeFileSync(join(CORPUS, rel), data);
}

/** Writes the tree (see the top); its manifest counts the files instead of listing some 25,000 of them. */
function buildCorpus() {
  const r = mulberry32(4242);
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
  for (const s of filesUnder(tennc).filter((p) => /\.(aspx|ashx)$/i.test(p))) plant(s, `inetpub/wwwroot/aspnet_client/system_web/${relative(tennc, s).replace(/[\\/]/g, '_')}`);
  plant(join(SHARED, 'hamad-she-proxyshell-writeup', 'webshell_vb_cmd_proxyshell_incident.aspx'), `${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx`);
  const dump = Buffer.alloc(6 * 1024 * 1024);
  dump.write('MDMP', 0, 'latin1');
  Buffer.from('C:\\Windows\\System32\\lsasrv.dll', 'utf16le').copy(dump, 5 * 1024 * 1024);
  put('Windows/Temp/CqMebRGC.dmp', dump);
  planted.push('Windows/Temp/CqMebRGC.dmp');
  bytes += dump.length;
  return { files: files + planted.length, bytes, planted: planted.sort() };
}

function runReference() {
  const yara = process.env.EXHUNT_BENCH_YARA === '1' && spawnSync('yara', ['--version']).status === 0;
  if (yara) {
    const rules = join(tmpdir(), 'exhunt-bench.yar');
    writeFileSync(rules, 'rule b { strings: $a = "eval(Request" nocase condition: $a }');
    return { name: 'yara -r', ...time('yara', ['-r', '-p', String(CORES), rules, CORPUS]) };
  }
  // One sha256sum per batch of files, as many in parallel as exhunt has workers.
  const cmd = `find "${CORPUS}" -type f -print0 | xargs -0 -n 256 -P ${CORES} sha256sum > /dev/null`;
  return { name: `sha256sum (xargs -P ${CORES})`, ...time('sh', ['-c', cmd]) };
}

const t0 = performance.now();
const manifest = cachedCorpus(CORPUS, { version: VERSION, gb: GB }, buildCorpus, 'planted');
warm(CORPUS);
const { ex, ref, report } = compareRuns(RUNS, CORPUS, runReference);
const check = checkFindings(report, manifest.planted, (f) => f.source.path);
printResults({ manifest, planted: 'planted', runs: RUNS, width: 30, ours: { name: 'exhunt scan (file sweep)', runs: ex }, ref: { name: ref[0].name, runs: ref }, target: 0.5 });
console.log(`flagged  ${check.found} files (${check.rules.join(', ')}), ${check.scanned} files swept; ${manifest.planted.length} planted: ${check.ok ? 'exactly the planted files' : 'MISMATCH'}`);
if (!check.ok) printMismatch(check);
console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (!check.ok) process.exit(1);
