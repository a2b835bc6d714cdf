// --yara RULES: runs the user's YARA rules over swept files. Engine: the optional npm dependency @litko/yara-x
// (YARA-X, prebuilt native binary shipped in the registry package, no download step), loaded lazily; else
// Debian's `yara` command if installed (run with execFile and an argument list, never through a shell).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EvidenceFile } from '../../evidence/file.js';

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

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && !stdout ? err.message : '') });
    });
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

/** Names of the rules that match a file; `all` is the file's bytes when the sweep already holds them. */
export async function yaraScan(rulesPath: string, file: EvidenceFile, all: Buffer | null): Promise<{ matches: string[] } | { error: string }> {
  const e = await engineFor(rulesPath);
  if (e.kind === 'none') return { error: e.error };
  const unique = (xs: string[]) => [...new Set(xs)];
  if (e.kind === 'yara-x') {
    try {
      const ms = all ? e.rules.scan(all) : file.kind === 'fs' ? e.rules.scanFile(file.abs) : null;
      return ms ? { matches: unique(ms.map((m) => m.ruleIdentifier)) } : { error: 'large file inside a zip: not scanned with YARA' };
    } catch (err) {
      return { error: `scan failed: ${(err as Error).message.slice(0, 200)}` };
    }
  }
  if (file.kind !== 'fs') return { error: 'file inside a zip: the yara command needs a file on disk' };
  const r = await run('yara', ['-w', e.rulesPath, file.abs]);
  if (r.code !== 0) return { error: `yara exited ${r.code}: ${r.stderr.slice(0, 200)}` };
  // Output: one `<rule> <path>` line per match.
  return { matches: unique(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0])) };
}
