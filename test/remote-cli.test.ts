import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCheck } from '../src/cli/commands/check.js';
import { UsageError } from '../src/cli/errors.js';
import { runCommand } from './support/cli.js';
import { makeTestCert, startMock, type MockServer } from './fixtures/remote/mock-exchange.js';

let vuln: MockServer;
let patched: MockServer;
let dir: string;

beforeAll(async () => {
  const cert = makeTestCert();
  vuln = await startMock({ behaviour: 'vulnerable', cert });
  patched = await startMock({ behaviour: 'patched', cert, build: '15.2.1118.20' });
  dir = mkdtempSync(join(tmpdir(), 'exhunt-check-cli-'));
});

afterAll(async () => {
  await Promise.all([vuln.close(), patched.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  return runCommand(registerCheck, ['check', '--no-progress', '--timeout', '2000', ...args]);
}

describe('exhunt check', () => {
  it('JSON: results in input order with a summary; exit 1 when any target is vulnerable', async () => {
    const { out, code } = await run('--format', 'json', patched.url, vuln.url);
    const j = JSON.parse(out);
    expect(j.schema).toBe('exhunt.check/1');
    expect(j.results.map((r: { state: string }) => r.state)).toEqual(['patched', 'vulnerable']);
    expect(j.summary).toMatchObject({ vulnerable: 1, patched: 1 });
    expect(code).toBe(1);
  });

  it('--targets file, NDJSON and CSV; exit 0 when nothing is vulnerable', async () => {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, `# lab\n${patched.url}  # patched one\n`);
    const nd = await run('--format', 'ndjson', '--targets', file);
    expect(JSON.parse(nd.out.trim())).toMatchObject({ index: 0, state: 'patched', build: '15.2.1118.20' });
    expect(nd.code).toBeUndefined();
    const csv = await run('--format', 'csv', '--targets', file);
    const [head, row] = csv.out.trim().split('\n');
    expect(head.split(',').slice(0, 4)).toEqual(['index', 'target', 'url', 'state']);
    expect(row).toContain('"patched"');
  });

  it('usage errors: no targets, bad format, bad number', async () => {
    await expect(run()).rejects.toBeInstanceOf(UsageError);
    await expect(run('--format', 'xml', vuln.url)).rejects.toBeInstanceOf(UsageError);
    await expect(run('--concurrency', '0', vuln.url)).rejects.toBeInstanceOf(UsageError);
  });
});
