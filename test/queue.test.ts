// Distributed scanning through a real redis-server (Debian package, installed by scripts/setup-test-deps.sh) on
// 127.0.0.1 with a free port, a password and a temporary folder: two worker processes, one killed in the middle of
// a job; every host gets exactly one result, a host that cannot be read is reported failed with its error, and the
// merged report equals a single-process --hosts-from scan of the same hosts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../src/report/fleet-report.js';
import { CLI, exhunt } from './support/cli.js';
import { velociraptorZip } from './support/collections.js';

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const REDIS = which('redis-server');
const OPENSSL = which('openssl');
const PASSWORD = 'fleet-test-secret';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A benign IIS log big enough that a scan of it takes a while (the job the first worker dies in). */
function bigIisLog(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, '#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Date: 2021-03-01 00:00:00\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n');
  const line = '2021-03-01 10:00:00 10.0.0.5 GET /owa/ &ExchangeServerVersion=15.1.2176 443 CORP\\alice 10.1.2.3 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 31\n';
  const block = line.repeat(Math.ceil((1024 * 1024) / line.length));
  for (let i = 0; i < mb; i++) writeSync(fd, block);
  closeSync(fd);
}

const NO_REDIS = 'redis-server is not installed (scripts/setup-test-deps.sh installs the Debian package)';
const NO_TLS = 'redis-server or openssl is not installed (scripts/setup-test-deps.sh installs redis-server)';

describe('exhunt queue / worker on a real redis-server', () => {
  let dir: string;
  let redis: ChildProcess;
  let url: string;
  const hostsDir = () => join(dir, 'hosts');

  beforeAll(async () => {
    if (!REDIS) return;
    dir = mkdtempSync(join(tmpdir(), 'exhunt-queue-'));
    const port = await freePort();
    mkdirSync(join(dir, 'redis'));
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(dir, 'redis'), '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD], { stdio: 'ignore' });
    url = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    mkdirSync(hostsDir());
    // The big host sorts first, so the first job a worker takes is the long one.
    cpSync('examples/evidence/mail02-clean', join(hostsDir(), 'a-big-mail05'), { recursive: true });
    bigIisLog(join(hostsDir(), 'a-big-mail05', 'C', 'inetpub', 'logs', 'LogFiles', 'W3SVC1', 'u_ex210301.log'), 80);
    for (const h of ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs']) cpSync(join('examples/evidence', h), join(hostsDir(), h), { recursive: true });
    await velociraptorZip('examples/evidence/mail01-compromised', join(hostsDir(), 'acme-mail01.zip'), { host: 'MAIL01' });
    for (let i = 0; i < 50; i++) {
      const r = exhunt(['queue', 'status', '--redis', url]);
      if (r.code !== 2) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 120_000);

  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('refuses a wrong password with one clear line', (ctx) => {
    if (!REDIS) ctx.skip(NO_REDIS);
    const r = exhunt(['queue', 'status', '--redis', url.replace(PASSWORD, 'wrong')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^exhunt: .*(WRONGPASS|invalid username-password|NOAUTH)/);
    expect(r.stderr).not.toContain('    at ');
  });

  it('survives a worker killed mid-job: one result per host, failures reported, same report as one process', async (ctx) => {
    if (!REDIS) ctx.skip(NO_REDIS);
    const hosts = readdirSync(hostsDir()).sort().map((h) => join(hostsDir(), h));
    const missing = join(dir, 'not-mounted-here', 'mail09');
    const add = exhunt(['queue', 'add', '--redis', url, '--attempts', '2', '--backoff-seconds', '1', ...hosts, missing]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe(`queued ${hosts.length + 1} hosts\n`);
    expect(exhunt(['queue', 'add', '--redis', url, hosts[0]]).stdout).toBe('queued 0 hosts (1 already in the queue, not added again)\n');

    const out = join(dir, 'results');
    const start = (name: string) => {
      const p = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--out', out, '--stall-seconds', '2', '--until-empty'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      p.stderr!.on('data', (b: Buffer) => (log += b.toString()));
      return { p, log: () => log, name, exit: new Promise<number | null>((res) => p.on('exit', (code) => res(code))) };
    };
    const a = start('a');
    const b = start('b');
    // kill whichever worker starts the big host, as soon as it has started it
    const victim = await new Promise<ReturnType<typeof start>>((resolve, reject) => {
      const t = setInterval(() => {
        for (const w of [a, b]) if (w.log().includes(`start ${join(hostsDir(), 'a-big-mail05')}`)) {
          clearInterval(t);
          resolve(w);
        }
      }, 20);
      setTimeout(() => reject(new Error(`no worker started the big host: ${a.log()} ${b.log()}`)), 60_000);
    });
    victim.p.kill('SIGKILL');
    const survivor = victim === a ? b : a;
    expect(await survivor.exit, survivor.log()).toBe(0);
    expect(survivor.log()).toContain(`done ${join(hostsDir(), 'a-big-mail05')}`);

    const files = readdirSync(out).sort();
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toHaveLength(hosts.length);
    const labels = files.map((f) => (JSON.parse(readFileSync(join(out, f), 'utf8')) as { hosts: Array<{ label: string }> }).hosts.map((h) => h.label));
    expect(labels.every((l) => l.length === 1)).toBe(true);
    expect(new Set(labels.flat()).size).toBe(hosts.length);

    const status = exhunt(['queue', 'status', '--redis', url]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`done ${hosts.length}, failed 1`);
    expect(status.stdout).toContain(`FAILED ${missing} after 2 attempts: no such file or folder on this worker: ${missing}`);

    const single = join(dir, 'single.json');
    exhunt(['scan', '--hosts-from', hostsDir(), '-q', '--json', single]);
    const fleet = (args: string[]) => {
      const f = join(dir, `fleet-${Math.random()}.json`);
      expect(exhunt(['report', ...args, '-q', '--json', f]).code).toBe(1);
      const r = JSON.parse(readFileSync(f, 'utf8')) as FleetReport;
      return { hosts: r.hosts.map(({ scanned_at: _s, result_file: _r, ...h }) => h), campaigns: r.campaigns, totals: r.totals };
    };
    const merged = fleet(files.map((f) => join(out, f)));
    expect(merged).toEqual(fleet([single]));
    expect(merged.totals.compromised).toBe(2);
  }, 240_000);
});

describe('rediss:// (TLS) on a real redis-server', () => {
  let redis: ChildProcess;
  let dir: string;
  let url: string;
  beforeAll(async () => {
    if (!REDIS || !OPENSSL) return;
    dir = mkdtempSync(join(tmpdir(), 'exhunt-queue-tls-'));
    const ssl = (args: string[]) => expect(spawnSync(OPENSSL, args, { cwd: dir }).status).toBe(0);
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=exhunt test CA']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext']);
    const port = await freePort();
    redis = spawn(REDIS, ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', join(dir, 'srv.pem'), '--tls-key-file', join(dir, 'srv.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    url = `rediss://127.0.0.1:${port}`;
    await new Promise((res) => setTimeout(res, 500));
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('connects with the CA given by NODE_EXTRA_CA_CERTS and refuses an unknown certificate in one line', (ctx) => {
    if (!REDIS || !OPENSSL) ctx.skip(NO_TLS);
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [CLI, 'queue', 'status', '--redis', url], { encoding: 'utf8', env: { ...process.env, ...env } });
    let ok = run({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
    for (let i = 0; i < 20 && ok.status === 2; i++) ok = run({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('waiting 0, running 0, retrying 0, done 0, failed 0\n');
    const bad = run({ NODE_EXTRA_CA_CERTS: '' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^exhunt: Redis at rediss:\/\/127\.0\.0\.1:\d+: self-signed certificate in certificate chain\n$/);
  });
});
