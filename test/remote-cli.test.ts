import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCheck } from '../src/cli/commands/check.js';
import { UsageError } from '../src/cli/errors.js';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { runCommand } from './support/cli.js';
import { makeTestCert, startMock, type MockServer } from './fixtures/remote/mock-exchange.js';

// ajv's CommonJS default export under NodeNext typing
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
const checkSchema = JSON.parse(readFileSync('schema/exhunt.check-1.schema.json', 'utf8'));
const validateCheck = ajv.compile(checkSchema);
const validateResult = ajv.compile({ ...checkSchema, $id: undefined, $ref: '#/$defs/result', required: undefined, properties: undefined, additionalProperties: undefined, type: undefined });

let vuln: MockServer;
let patched: MockServer;
let current: MockServer;
let dir: string;

beforeAll(async () => {
  const cert = makeTestCert();
  vuln = await startMock({ behaviour: 'vulnerable', cert });
  patched = await startMock({ behaviour: 'patched', cert, build: '15.2.1118.20' });
  current = await startMock({ behaviour: 'patched', cert, build: '15.2.2562.57' });
  dir = mkdtempSync(join(tmpdir(), 'exhunt-check-cli-'));
});

afterAll(async () => {
  await Promise.all([vuln.close(), patched.close(), current.close()]);
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
    expect(validateCheck(j) ? [] : validateCheck.errors).toEqual([]);
    // The schema is strict enough to fail (a test that cannot fail is a defect).
    expect(validateCheck({ ...j, results: [{ ...j.results[0], state: 'owned' }] })).toBe(false);
    expect(validateCheck({ ...j, results: [{ ...j.results[0], exchanges: [{ ...j.results[0].exchanges[0], response: { status: '200', headers: [] } }] }] })).toBe(false);
  });

  it('NDJSON lines match the schema of one result (with their index)', async () => {
    const nd = await run('--format', 'ndjson', patched.url, vuln.url, 'http://127.0.0.1:1');
    const lines = nd.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(validateResult(l) ? [] : validateResult.errors).toEqual([]);
    expect(lines.map((l) => l.state).sort()).toEqual(['patched', 'unreachable', 'vulnerable']);
  });

  it('--targets file, NDJSON and CSV; exit 3 when the probe is closed but the build is not, 0 when neither is open', async () => {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, `# lab\n${patched.url}  # patched one\n`);
    const nd = await run('--format', 'ndjson', '--targets', file);
    expect(JSON.parse(nd.out.trim())).toMatchObject({ index: 0, state: 'patched', build: '15.2.1118.20' });
    // Exchange 2019 CU12 of 2023: the ProxyLogon probe is closed, KEV CVEs of 2024-2026 are open (review9 F4).
    expect(nd.code).toBe(3);
    const se = await run(current.url);
    expect(se.out).toMatch(/^patched .* Exchange SE RTM/);
    expect(se.out).not.toContain('VULNERABLE');
    expect(se.code).toBeUndefined();
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
