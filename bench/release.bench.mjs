// The single-file executables against the npm CLI in the same run: file sizes, and start-up time for `--version`
// and for the README's example scan (best of 5, wall clock; the Windows executable only where wine64 runs it).
// Needs `npm run release` first (skips, saying so, without it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'release');
const EXAMPLE = ['examples/evidence/mail01-compromised', 'examples/evidence/mail02-clean'];
const WINE = ['/usr/lib/wine/wine64', '/usr/bin/wine64'].find((p) => existsSync(p));
const RUNS = 5;

if (!existsSync(join(OUT, 'SHA256SUMS'))) {
  console.log('release/ not built: run `npm run release` first; nothing measured');
  process.exit(0);
}

const tmp = mkdtempSync(join(tmpdir(), 'exhunt-bench-rel-'));
const wineEnv = { ...process.env, WINEDEBUG: '-all', WINEPREFIX: join(tmpdir(), 'exhunt-wineprefix') };

/** Best wall-clock seconds of RUNS runs (output to files: wine cannot hand pipes to Node as stdio). */
function best(cmd, args, env = process.env) {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', `"$0" "$@" >"${tmp}/out" 2>"${tmp}/err"`, cmd, ...args], { cwd: REPO, env });
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    // exhunt's 3 and 4 are verdicts too (README "Exit codes").
    if (![0, 1, 3, 4].includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}`);
    min = Math.min(min, s);
  }
  return min;
}

const runners = [
  ['npx exhunt', 'npx', ['--no-install', 'exhunt']],
  ['node dist/cli/main.js', process.execPath, ['dist/cli/main.js']],
  ['exhunt-linux-x64', join(OUT, 'exhunt-linux-x64'), []],
  ...(WINE ? [['exhunt-win-x64.exe (wine64)', WINE, [join(OUT, 'exhunt-win-x64.exe')], wineEnv]] : []),
];

const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const mib = (f) => `${(statSync(join(OUT, f)).size / 1048576).toFixed(1)} MiB`;
console.log(`sizes: exhunt-linux-x64 ${mib('exhunt-linux-x64')}, exhunt-win-x64.exe ${mib('exhunt-win-x64.exe')}, exhunt-${version}.tgz ${mib(`exhunt-${version}.tgz`)}`);
console.log(`${'runner'.padEnd(30)} ${'--version'.padStart(10)} ${'example scan'.padStart(13)}  (best of ${RUNS}, seconds; ratio to npx)`);
let base;
for (const [name, cmd, pre, env] of runners) {
  const v = best(cmd, [...pre, '--version'], env);
  const s = best(cmd, [...pre, 'scan', ...EXAMPLE, '--json', join(tmp, 'r.json'), '-q'], env);
  base ??= { v, s };
  console.log(`${name.padEnd(30)} ${v.toFixed(3).padStart(10)} ${s.toFixed(3).padStart(13)}  (${(v / base.v).toFixed(2)}x, ${(s / base.s).toFixed(2)}x)`);
}
if (!WINE) console.log('exhunt-win-x64.exe: not timed (wine64 not installed)');
