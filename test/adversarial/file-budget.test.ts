// The per-file wall-clock limit (engine/budget.ts), driven by an injected clock: no test waits or times anything.
// A file that runs over is stopped between chunks (text logs) or record batches (event logs), named in skipped
// with where it stopped, marked partial in coverage, and the scan of the other files goes on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBudget } from '../../src/engine/budget.js';
import { scanFile } from '../../src/engine/file-task.js';
import { prepare } from '../../src/engine/registry.js';
import { scanOptions } from '../../src/engine/scan.js';
import type { EvidenceFile } from '../../src/evidence/file.js';
import { scriptBlocksEvtx } from './gen/evtx.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-budget-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IIS = readFileSync('examples/evidence/mail01-compromised/C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log', 'utf8').split('\r\n');
const HEADER = IIS.filter((l) => l.startsWith('#'));
const RECORDS = IIS.filter((l) => l && !l.startsWith('#'));

/** A clock that stands still until `jump()`, then is an hour later. */
function manualClock() {
  let now = 0;
  return { clock: () => now, jump: () => (now += 3_600_000) };
}

/** A clock that is an hour later at every reading after the first (the budget's start). */
function runaway(): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? 0 : 3_600_000);
}

function fsFile(path: string, rel: string): EvidenceFile {
  return { kind: 'fs', abs: path, rel, size: readFileSync(path).length, mtimeMs: 0 };
}

describe('startBudget', () => {
  it('is exceeded only after its seconds have passed on the clock; 0 means no limit', () => {
    const c = manualClock();
    const b = startBudget(30, c.clock)!;
    expect(b.exceeded()).toBe(false);
    c.jump();
    expect(b.exceeded()).toBe(true);
    expect(startBudget(0, c.clock)).toBeUndefined();
    expect(startBudget(undefined, c.clock)?.seconds).toBe(600);
  });
});

describe('a text log that runs over its time', () => {
  // About 9 MiB: three 4 MiB chunks. The attack lines of mail01's IIS log are at the start and again at the end.
  const path = join(dir, 'u_ex210303.log');
  const filler = RECORDS.filter((l) => !/\.aspx|autodiscover|ecp\/|owa\/auth/i.test(l) || /\/owa\/auth\/logon\.aspx/.test(l));
  const lines = [...HEADER, ...RECORDS];
  while (lines.join('\r\n').length < 9 * 1024 * 1024) lines.push(...filler);
  lines.push(...RECORDS);
  writeFileSync(path, `${lines.join('\r\n')}\r\n`);
  const file = fsFile(path, 'W3SVC1/u_ex210303.log');

  it('is stopped after its first chunk: skipped says at which line and byte, coverage is partial', async () => {
    const options = scanOptions({ fileSeconds: 60 });
    const prepared = await prepare(options);
    const full = await scanFile(file, scanOptions({ fileSeconds: 0 }), prepared);
    const cut = await scanFile(file, options, prepared, undefined, runaway());
    const stop = cut.skipped.find((s) => s.reason.startsWith('per-file time limit of 60 s reached'));
    expect(stop).toBeDefined();
    expect(stop!.reason).toMatch(/^per-file time limit of 60 s reached: scanned the first \d+ lines \(4194304 of \d+ bytes\); the rest of the file was not read/);
    expect(stop!.line).toBeGreaterThan(1000);
    expect(cut.coverage.find((c) => c.format === 'iis')?.partial).toEqual(['W3SVC1/u_ex210303.log']);
    expect(full.coverage.find((c) => c.format === 'iis')?.partial).toBeUndefined();
    // What was read before the stop is kept; what came after is not claimed.
    const lastLine = (r: typeof full) => Math.max(...r.findings.filter((f) => f.source.line !== undefined).map((f) => f.source.line!));
    expect(cut.findings.length).toBeGreaterThan(0);
    expect(cut.findings.length).toBeLessThan(full.findings.length);
    expect(lastLine(cut)).toBeLessThan(stop!.line!);
    expect(lastLine(full)).toBeGreaterThan(stop!.line!);
  });
});

describe('an event log that runs over its time', () => {
  it('is stopped before its next record batch, with the records read named', async () => {
    // evtx-rs's system.evtx (vendored, MIT): 1.1 MB, many 64 KiB chunks.
    const path = 'test/fixtures/external/evtx-rs-samples/system.evtx';
    const options = scanOptions({ fileSeconds: 5 });
    const prepared = await prepare(options);
    const r = await scanFile(fsFile(path, 'system.evtx'), options, prepared, undefined, runaway());
    const stop = r.skipped.find((s) => s.path === 'system.evtx' && s.reason.startsWith('per-file time limit'));
    expect(stop?.reason).toMatch(/^per-file time limit of 5 s reached: scanned [1-9]\d* records \(to record \d+\); the rest of the file was not read/);
    expect(r.coverage.every((c) => c.partial?.[0] === 'system.evtx')).toBe(true);
    const free = await scanFile(fsFile(path, 'system.evtx'), options, prepared);
    expect(free.skipped.filter((s) => s.reason.startsWith('per-file time limit'))).toEqual([]);
    expect(free.coverage.every((c) => c.partial === undefined)).toBe(true);
  });

  it('read to its end within one batch, it is not partial even when the clock has run out', async () => {
    const path = join(dir, 'ps.evtx');
    writeFileSync(path, scriptBlocksEvtx(['Get-Process', 'Get-Service', 'Get-Item C:\\']));
    const options = scanOptions({ fileSeconds: 5 });
    const r = await scanFile(fsFile(path, 'ps.evtx'), options, await prepare(options), undefined, runaway());
    expect(r.skipped).toEqual([]);
    expect(r.coverage.every((c) => c.partial === undefined)).toBe(true);
  });
});
