// What `npm run release` builds (release/): the npm tarball installs and runs without a build step, the Linux
// single-file executable gives the same report as `npx exhunt` (worker threads included) and reads nothing from
// beside itself, the Windows executable is a PE with the SEA blob injected (and, where Debian's wine64 is
// installed, runs the same scan). Skipped, saying why, until `npm run release` has been run (.ci/run does).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';

const REPO = resolve(import.meta.dirname, '..');
const OUT = join(REPO, 'release');
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const TGZ = `exhunt-${version}.tgz`;
const LINUX = join(OUT, 'exhunt-linux-x64');
const WIN = join(OUT, 'exhunt-win-x64.exe');
const EXAMPLES = ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs'].map((h) => join(REPO, 'examples', 'evidence', h));
const WINE = ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine'].find((p) => existsSync(p));

type Ctx = { skip: (condition: boolean, note?: string) => void };

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/** Why the release cannot be tested here, if it cannot. */
function missingRelease(): string | undefined {
  if (!existsSync(join(OUT, 'SHA256SUMS'))) return 'release/ not built: run `npm run release` (.ci/run does)';
  const built = statSync(join(OUT, 'SHA256SUMS')).mtimeMs;
  if (Math.max(newest(join(REPO, 'src')), newest(join(REPO, 'data'))) > built) return 'release/ is older than src/ or data/: run `npm run release`';
  return undefined;
}
const MISSING = missingRelease();
const needRelease = (ctx: Ctx) => ctx.skip(MISSING !== undefined, MISSING);

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', ...opts.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON report of the example scan, comparable across builds. */
function exampleReport(cmd: string, pre: string[], out: string, cwd?: string): unknown {
  const r = run(cmd, [...pre, 'scan', ...EXAMPLES, '--json', out, '-q'], { cwd });
  expect(r.code, r.stderr).toBe(1); // the example has a compromised host
  return comparable(JSON.parse(readFileSync(out, 'utf8')) as ScanReport);
}

/** Minus what differs between runs and builds: tool, seconds, and the input paths' form (Z:\\ under wine). */
function comparable(report: ScanReport): unknown {
  return {
    ...report,
    tool: null,
    hosts: report.hosts.map((h) => ({ ...h, inputs: h.inputs.map((p) => p.split(/[\\/]/).pop()), stats: { ...h.stats, seconds: 0 } })),
  };
}

let npxReport: unknown;
function reference(): unknown {
  npxReport ??= exampleReport(process.execPath, [join(REPO, 'dist', 'cli', 'main.js')], join(mkdtempSync(join(tmpdir(), 'exhunt-rel-')), 'npx.json'));
  return npxReport;
}

/** The NODE_SEA_BLOB resource of a PE file (type RT_RCDATA = 10, named entry), read from its .rsrc section. */
function peSeaResource(buf: Buffer): { machine: number; signed: boolean; blobSize: number | null } {
  expect(buf.toString('latin1', 0, 2)).toBe('MZ');
  const pe = buf.readUInt32LE(0x3c);
  expect(buf.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
  const machine = buf.readUInt16LE(pe + 4);
  const sections = buf.readUInt16LE(pe + 6);
  const optSize = buf.readUInt16LE(pe + 20);
  const opt = pe + 24;
  const dirs = opt + (buf.readUInt16LE(opt) === 0x20b ? 112 : 96);
  const signed = buf.readUInt32LE(dirs + 4 * 8 + 4) !== 0;
  const rsrcRva = buf.readUInt32LE(dirs + 2 * 8);
  const table = opt + optSize;
  const offsetOf = (rva: number) => {
    for (let i = 0; i < sections; i++) {
      const s = table + i * 40;
      const va = buf.readUInt32LE(s + 12);
      const size = Math.max(buf.readUInt32LE(s + 8), buf.readUInt32LE(s + 16));
      if (rva >= va && rva < va + size) return rva - va + buf.readUInt32LE(s + 20);
    }
    throw new Error(`RVA ${rva} is in no section`);
  };
  const base = offsetOf(rsrcRva);
  const entries = (dir: number) => {
    const n = buf.readUInt16LE(dir + 12) + buf.readUInt16LE(dir + 14);
    return Array.from({ length: n }, (_, i) => ({ name: buf.readUInt32LE(dir + 16 + i * 8), to: buf.readUInt32LE(dir + 20 + i * 8) }));
  };
  const nameAt = (off: number) => buf.toString('utf16le', base + off + 2, base + off + 2 + 2 * buf.readUInt16LE(base + off));
  const rcdata = entries(base).find((e) => e.name === 10);
  if (!rcdata) return { machine, signed, blobSize: null };
  const named = entries(base + (rcdata.to & 0x7fffffff)).find((e) => e.name & 0x80000000 && nameAt(e.name & 0x7fffffff) === 'NODE_SEA_BLOB');
  if (!named) return { machine, signed, blobSize: null };
  const lang = entries(base + (named.to & 0x7fffffff))[0];
  const data = base + lang.to;
  return { machine, signed, blobSize: buf.readUInt32LE(data + 4) };
}

describe('npm run release', () => {
  it('writes SHA256SUMS for the tarball and both executables', (ctx) => {
    needRelease(ctx);
    const lines = readFileSync(join(OUT, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split('  ')[1])).toEqual([TGZ, 'exhunt-linux-x64', 'exhunt-win-x64.exe']);
    for (const l of lines) {
      const [sum, name] = l.split('  ');
      expect(createHash('sha256').update(readFileSync(join(OUT, name))).digest('hex'), name).toBe(sum);
    }
  });

  it('the tarball installs with npm install -g into a fresh prefix and runs without a build step', (ctx) => {
    needRelease(ctx);
    const prefix = mkdtempSync(join(tmpdir(), 'exhunt-prefix-'));
    const i = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(OUT, TGZ)]);
    expect(i.code, i.stderr).toBe(0);
    const pkg = join(prefix, 'lib', 'node_modules', 'exhunt');
    expect(existsSync(join(pkg, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules', 'typescript'))).toBe(false);
    const bin = join(prefix, 'bin', 'exhunt');
    expect(run(bin, ['--version']).stdout.trim()).toBe(version);
    expect(exampleReport(bin, [], join(prefix, 'r.json'), prefix)).toEqual(reference());
  });

  it('exhunt-linux-x64 gives the same report as the npm CLI, from a folder with nothing beside it', (ctx) => {
    needRelease(ctx);
    const alone = mkdtempSync(join(tmpdir(), 'exhunt-alone-'));
    const exe = join(alone, 'exhunt');
    copyFileSync(LINUX, exe);
    const v = run(exe, ['--version'], { cwd: alone });
    expect(v.stdout.trim()).toBe(`${version} (single-file executable, Node v20.20.2, linux-x64)`);
    expect(v.stderr).toBe(''); // no experimental-feature warning
    expect(exampleReport(exe, [], join(alone, 'r.json'), alone)).toEqual(reference());
    expect(readdirSync(alone).sort()).toEqual(['exhunt', 'r.json']);
  });

  it('exhunt-linux-x64 scans in worker threads to the same result as one thread', (ctx) => {
    needRelease(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-jobs-'));
    const one = exampleReport(LINUX, [], join(dir, '1.json'));
    // --jobs 2 forces workers (the example is below the size where they start by themselves).
    const r = run(LINUX, ['scan', ...EXAMPLES, '--jobs', '2', '--json', join(dir, '2.json'), '-q']);
    expect(r.code, r.stderr).toBe(1);
    const two = JSON.parse(readFileSync(join(dir, '2.json'), 'utf8')) as ScanReport;
    expect(comparable(two)).toEqual(one);
    expect(JSON.stringify(two)).not.toContain('scan failed');
  });

  it('exhunt-win-x64.exe is an x64 PE, unsigned, with the NODE_SEA_BLOB resource and the fuse set', (ctx) => {
    needRelease(ctx);
    const buf = readFileSync(WIN);
    const pe = peSeaResource(buf);
    expect(pe.machine).toBe(0x8664);
    expect(pe.signed).toBe(false); // node.exe's signature removed: it would no longer match
    expect(pe.blobSize).toBeGreaterThan(1_000_000); // the bundle and its data
    expect(buf.includes('NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1')).toBe(true);
  });

  it('exhunt-win-x64.exe runs --version, the example scan (same report) and scan --local under wine', (ctx) => {
    needRelease(ctx);
    ctx.skip(WINE === undefined, 'wine64 is not installed (Debian package wine64; scripts/setup-test-deps.sh installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-wine-'));
    // Wine's pipes are not usable as Node's stdio: output goes to files (a shell redirect).
    const env = { WINEDEBUG: '-all', WINEPREFIX: join(tmpdir(), 'exhunt-wineprefix'), ExchangeInstallPath: 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\' };
    // Node 20 needs Windows 8.1 or later; a new wine prefix says Windows 7.
    if (!existsSync(env.WINEPREFIX)) expect(run(WINE!, ['winecfg', '/v', 'win10'], { env }).code).toBe(0);
    const sh = (args: string) => run('sh', ['-c', `"${WINE}" "${WIN}" ${args} >"${dir}/out.txt" 2>"${dir}/err.txt"`], { env });
    sh('--version');
    expect(readFileSync(join(dir, 'out.txt'), 'utf8').trim()).toBe(`${version} (single-file executable, Node v20.20.2, win32-x64)`);
    const r = sh(`scan ${EXAMPLES.map((e) => `"${e}"`).join(' ')} --json "${dir}/r.json" -q`);
    expect(r.code, readFileSync(join(dir, 'err.txt'), 'utf8')).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ScanReport;
    expect(comparable(report)).toEqual(reference());

    // scan --local on a wine drive C: laid out as the compromised example server (ExchangeInstallPath as set by
    // Exchange setup): the same web shells and the same rules fire as for the copied evidence.
    const drive = join(env.WINEPREFIX, 'drive_c');
    cpSync(join(EXAMPLES[0], 'C'), drive, { recursive: true });
    const l = sh(`scan --local --json "${dir}/local.json"`);
    const err = readFileSync(join(dir, 'err.txt'), 'utf8');
    expect(l.code, err).toBe(1);
    expect(err).toContain('Exchange install folder: C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ (%ExchangeInstallPath%)');
    const host = (JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')) as ScanReport).hosts[0];
    const mail01 = (reference() as ScanReport).hosts[0];
    expect(host.verdict).toBe('compromised');
    expect(new Set(host.findings.map((f) => f.rule))).toEqual(new Set(mail01.findings.map((f) => f.rule)));
  });
});
