// Bounded resources and robust inputs: worker count capped by cores and memory, scans leave atimes alone, a bad
// line in a targets file is named and skipped while the valid targets are checked.
import { mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveJobs } from '../../src/engine/pool.js';
import { scan } from '../../src/engine/scan.js';
import { exhunt } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-limits-'));

describe('bounded resources', () => {
  it('--jobs is capped by cores and by memory (256 MiB a worker, half the machine)', () => {
    expect(effectiveJobs(64, 2, 24 * 1024 ** 3)).toBe(2);
    expect(effectiveJobs(64, 32, 2 * 1024 ** 3)).toBe(4);
    expect(effectiveJobs(3, 32, 64 * 1024 ** 3)).toBe(3);
    expect(effectiveJobs(8, 1, 256 * 1024 ** 2)).toBe(1);
    expect(effectiveJobs(64)).toBeLessThanOrEqual(availableParallelism());
  });

  it('scan reads evidence without updating access times (O_NOATIME where the platform allows)', async (ctx) => {
    ctx.skip(process.platform !== 'linux', 'O_NOATIME is Linux-only');
    const host = join(dir, 'atime-host');
    const log = join(host, 'u_ex210303.log');
    mkdirSync(host);
    writeFileSync(log, '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem\r\n2021-03-03 08:12:01 10.0.0.5 GET /owa/\r\n');
    const old = new Date('2021-03-04T00:00:00Z');
    utimesSync(log, old, new Date('2021-03-03T00:00:00Z'));
    await scan({ paths: [host], jobs: 1 });
    expect(statSync(log).atime.toISOString()).toBe(old.toISOString());
  });
});

describe('remote check targets file', () => {
  it('bad lines are reported with their line numbers and skipped; the valid targets are checked', () => {
    const targets = join(dir, 'targets.txt');
    writeFileSync(targets, ['# fleet', '127.0.0.1:1', 'ftp://mail.example.org', '', 'mail example org', 'http://127.0.0.1:2/owa', 'https://'].join('\n'));
    const r = exhunt(['check', '--targets', targets, '--format', 'csv', '--timeout', '2000', '--retries', '0', '--no-progress']);
    expect(r.stderr).toContain(`--targets ${targets}:3: bad target scheme ftp:`);
    expect(r.stderr).toContain(`--targets ${targets}:5: bad target: "mail example org"; line skipped`);
    expect(r.stderr).toContain(`--targets ${targets}:7: `);
    expect(r.stderr).toContain('--targets: 3 bad lines skipped');
    const rows = r.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows.every((l) => l.includes('unreachable'))).toBe(true);
    expect(r.code).toBe(0);
  });
});
