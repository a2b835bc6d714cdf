import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { expect, vi } from 'vitest';
import type { HostResult, ScanReport } from '../../src/model.js';

export const CLI = resolve('dist/cli/main.js');

/** Runs the built CLI (npm test builds it first). */
export function exhunt(args: string[], opts: { cwd?: string } = {}) {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does it)');
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Writes `files` (paths relative to a host folder) under `dir`/`name`, runs `exhunt scan` on it with `--jobs 1`
 * (nothing on stderr expected) and returns the host's result from the JSON report.
 */
export function scanFiles(dir: string, name: string, files: Record<string, Buffer | string>): HostResult {
  const root = join(dir, name);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', root, '--json', out, '--jobs', '1']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

/** Runs one registered subcommand in this process, capturing stdout and the exit code it sets. */
export async function runCommand(
  register: (program: Command) => void,
  argv: string[],
): Promise<{ out: string; code: number | string | undefined }> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'exhunt', ...argv]);
  } finally {
    spy.mockRestore();
  }
  const code = process.exitCode;
  process.exitCode = undefined;
  return { out, code };
}
