// Bounded resources and robust inputs: worker count capped by cores and memory, scans leave atimes alone, a bad
// line in a targets file is named and skipped while the valid targets are checked.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { effectiveJobs } from '../../src/engine/workers.js';
import { scan } from '../../src/engine/scan.js';
import { CLI, exhunt } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bounded resources', () => {
  it('--jobs is capped by cores and by memory (256 MiB a worker, half the machine)', () => {
    expect(effectiveJobs(64, 2, 24 * 1024 ** 3)).toBe(2);
    expect(effectiveJobs(64, 32, 2 * 1024 ** 3)).toBe(4);
    expect(effectiveJobs(3, 32, 64 * 1024 ** 3)).toBe(3);
    expect(effectiveJobs(8, 1, 256 * 1024 ** 2)).toBe(1);
    expect(effectiveJobs(64)).toBeLessThanOrEqual(availableParallelism());
  });

  it('scan --jobs 64 on this machine starts no more worker threads than the cap (before: 64 workers, 1.4 GB)', async (ctx) => {
    ctx.skip(process.platform !== 'linux', 'threads are counted in /proc');
    // 4,096 small pages in aspnet_client: 64 batches of 64 files, enough work to start 64 workers uncapped.
    const host = join(dir, 'many-files', 'C', 'inetpub', 'wwwroot', 'aspnet_client', 'system_web');
    mkdirSync(host, { recursive: true });
    for (let i = 0; i < 4096; i++) writeFileSync(join(host, `p${i}.aspx`), `<%@ Page Language="C#" %>${i}`);
    const child = spawn(process.execPath, [CLI, 'scan', join(dir, 'many-files'), '--jobs', '64', '-q'], { stdio: 'ignore' });
    // Worker threads live for the whole file scan; the process's thread count is sampled until it exits.
    let most = 0;
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      most = Math.max(most, threads);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exited).toBe(1); // 4,096 unknown pages in aspnet_client: findings
    // Node's own threads (main, 4 libuv, V8 platform, signal) plus one per worker: capped workers stay far below 64.
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThan(12 + availableParallelism());
  }, 300_000);

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

  // A large log is read in byte ranges (workers), and a zip container through yauzl: both paths opened evidence
  // with a plain open before, and each read moved the atime on a relatime mount.
  it('the byte-range reader and zip containers leave access times alone too', async (ctx) => {
    ctx.skip(process.platform !== 'linux', 'O_NOATIME is Linux-only');
    const host = join(dir, 'atime-ranges');
    const log = join(host, 'inetpub', 'logs', 'LogFiles', 'W3SVC1', 'u_ex210303.log');
    mkdirSync(join(host, 'inetpub', 'logs', 'LogFiles', 'W3SVC1'), { recursive: true });
    const head = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n';
    const line = (i: number) => `2021-03-03 08:${String(10 + (i % 50)).padStart(2, '0')}:01 10.0.0.5 GET /owa/ - 443 - 192.0.2.${i % 250} Mozilla/5.0 - 200 0 0 ${i}\r\n`;
    writeFileSync(log, head + Array.from({ length: 400 }, (_, i) => line(i)).join(''));
    const zipPath = join(dir, 'atime-mail02.zip');
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(head + line(1)), 'inetpub/logs/LogFiles/W3SVC1/u_ex210304.log');
    zip.end();
    const parts: Buffer[] = [];
    for await (const c of zip.outputStream) parts.push(c as Buffer);
    writeFileSync(zipPath, Buffer.concat(parts));
    const old = new Date('2021-03-04T00:00:00Z');
    for (const f of [log, zipPath]) utimesSync(f, old, new Date('2021-03-03T00:00:00Z'));
    const r = await scan({ paths: [host, zipPath], jobs: 1, rangeBytes: 4096 });
    expect(r.hosts.map((h) => h.coverage.some((c) => c.files > 0))).toEqual([true, true]);
    expect(statSync(log).atime.toISOString()).toBe(old.toISOString());
    expect(statSync(zipPath).atime.toISOString()).toBe(old.toISOString());
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
