// --yara RULES: runs the user's YARA rules over swept files. Engine: the optional npm dependency @litko/yara-x
// (YARA-X, prebuilt native binary shipped in the registry package, no download step), loaded lazily; else
// Debian's `yara` command if installed (run with spawn and an argument list, never through a shell).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type EvidenceFile, fsPath } from '../evidence/file.js';
import { openEvidence } from '../evidence/open.js';

/** The part of @litko/yara-x this module uses (declared here: the package is optional). */
interface YaraX {
  scan(data: Buffer): Array<{ ruleIdentifier: string }>;
  scanFile(path: string): Array<{ ruleIdentifier: string }>;
}
interface YaraXModule {
  compile(source: string): YaraX;
}

type Engine =
  | { kind: 'yara-x'; rules: YaraX }
  | { kind: 'cli'; rulesPath: string }
  | { kind: 'none'; error: string };

const engines = new Map<string, Promise<Engine>>();

async function loadYaraX(): Promise<YaraXModule | null> {
  const name = '@litko/yara-x'; // a variable keeps TypeScript from resolving the optional package
  try {
    return (await import(name)) as YaraXModule;
  } catch {
    return null;
  }
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/** Runs a command (no shell). `fd`: an open descriptor the child inherits as its descriptor 3 (`/dev/fd/3`). */
function run(cmd: string, args: string[], fd?: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', fd], timeout: 120_000 });
    const out = { stdout: '', stderr: '' };
    let settled = false;
    const done = (code: number, stderr?: string) => {
      if (settled) return;
      settled = true;
      resolve({ code, stdout: out.stdout, stderr: stderr ?? out.stderr });
    };
    for (const k of ['stdout', 'stderr'] as const) {
      child[k]?.setEncoding('utf8');
      child[k]?.on('data', (s: string) => {
        out[k] += s;
        if (out[k].length > MAX_OUTPUT) child.kill();
      });
    }
    child.on('error', (err) => done(-1, err.message));
    child.on('close', (code) => done(code ?? -1));
  });
}

async function loadEngine(rulesFile: string): Promise<Engine> {
  const rulesPath = resolve(rulesFile);
  let source: string;
  try {
    source = await readFile(rulesPath, 'utf8');
  } catch (e) {
    return { kind: 'none', error: `cannot read rules ${rulesPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const yx = await loadYaraX();
  if (yx) {
    try {
      return { kind: 'yara-x', rules: yx.compile(source) };
    } catch (e) {
      return { kind: 'none', error: `rules do not compile: ${(e as Error).message.slice(0, 300)}` };
    }
  }
  const v = await run('yara', ['--version']);
  if (v.code === 0) {
    // yara 4 has no `--`: paths are made absolute so that none can be read as an option.
    // Compile once up front (scanning an empty input), so broken rules are reported once, not per file.
    const c = await run('yara', ['-w', rulesPath, '/dev/null']);
    return c.code === 0 ? { kind: 'cli', rulesPath } : { kind: 'none', error: `rules do not compile: ${c.stderr.trim().slice(0, 300)}` };
  }
  return { kind: 'none', error: 'no YARA engine: install the optional dependency @litko/yara-x or the yara package' };
}

/** Which engine `--yara` would use, or why it cannot run (for the CLI to check before a scan). */
export async function yaraEngine(rulesPath: string): Promise<{ engine: 'yara-x' | 'cli' } | { error: string }> {
  const e = await engineFor(rulesPath);
  return e.kind === 'none' ? { error: e.error } : { engine: e.kind };
}

function engineFor(rulesPath: string): Promise<Engine> {
  let e = engines.get(rulesPath);
  if (!e) engines.set(rulesPath, (e = loadEngine(rulesPath)));
  return e;
}

/**
 * Runs `scan` on a path naming the file on disk. A name that is not valid UTF-8 has no string form an engine could
 * open (its display form names no file): the file is opened here by its bytes and named by its descriptor
 * (`/dev/fd/N`; for the yara command, the descriptor it inherits as 3).
 */
async function onDisk<T>(file: EvidenceFile & { kind: 'fs' }, scan: (path: string, fd?: number) => Promise<T>): Promise<T> {
  if (!file.raw) return scan(file.abs);
  const fh = await openEvidence(fsPath(file));
  try {
    return await scan(`/dev/fd/${fh.fd}`, fh.fd);
  } finally {
    await fh.close();
  }
}

/** Names of the rules that match a file; `all` is the file's bytes when the sweep already holds them. */
export async function yaraScan(rulesPath: string, file: EvidenceFile, all: Buffer | null): Promise<{ matches: string[] } | { error: string }> {
  const e = await engineFor(rulesPath);
  if (e.kind === 'none') return { error: e.error };
  const unique = (xs: string[]) => [...new Set(xs)];
  if (e.kind === 'yara-x') {
    try {
      const ms = all ? e.rules.scan(all) : file.kind === 'fs' ? await onDisk(file, async (p) => e.rules.scanFile(p)) : null;
      return ms ? { matches: unique(ms.map((m) => m.ruleIdentifier)) } : { error: 'large file inside a zip: not scanned with YARA' };
    } catch (err) {
      return { error: `scan failed: ${(err as Error).message.slice(0, 200)}` };
    }
  }
  if (file.kind !== 'fs') return { error: 'file inside a zip: the yara command needs a file on disk' };
  let r;
  try {
    r = await onDisk(file, (p, fd) => (fd === undefined ? run('yara', ['-w', e.rulesPath, p]) : run('yara', ['-w', e.rulesPath, '/dev/fd/3'], fd)));
  } catch (err) {
    return { error: `not readable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (r.code !== 0) return { error: `yara exited ${r.code}: ${r.stderr.slice(0, 200)}` };
  // Output: one `<rule> <path>` line per match.
  return { matches: unique(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0])) };
}
