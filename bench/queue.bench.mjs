// Distributed scanning overhead: N small synthetic hosts (default 500; EXHUNT_QUEUE_HOSTS) through a local
// redis-server and 2 `exhunt worker` processes, against one `exhunt scan --hosts-from` process, in the same run.
// Prints the throughput ratio (queue / single process) and the per-job overhead (queue, Redis, one result file per
// host). Hosts are small on purpose: the bench measures the queue, not the scanners. Skips when redis-server is absent.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, requireDist, time } from './lib.mjs';

requireDist();
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const N = Number(process.env.EXHUNT_QUEUE_HOSTS ?? 500);
const WORKERS = 2;
const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
if (!redisServer) {
  console.log('queue bench skipped: redis-server not installed (scripts/setup-test-deps.sh installs it)');
  process.exit(0);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'exhunt-queue-bench-'));
const hosts = join(dir, 'hosts');
mkdirSync(hosts);
// Every 50th host is the compromised example, the rest the scanned one (a few hundred KB of logs each).
for (let i = 0; i < N; i++) cpSync(join(REPO, 'examples', 'evidence', i % 50 === 0 ? 'mail01-compromised' : 'mail03-scanned'), join(hosts, `host${String(i).padStart(4, '0')}`), { recursive: true });
mkdirSync(join(dir, 'redis'));
const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(dir, 'redis'), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
for (let i = 0; i < 100 && spawnSync(process.execPath, [CLI, 'queue', 'status', '--redis', url]).status === 2; i++) await new Promise((r) => setTimeout(r, 100));

try {
  const single = time(process.execPath, [CLI, 'scan', '--hosts-from', hosts, '-q', '--jobs', '1', '--json', join(dir, 'single.json')]);
  const t0 = performance.now();
  const add = time(process.execPath, [CLI, 'queue', 'add', '--redis', url, ...readdirSync(hosts).map((h) => join(hosts, h))]);
  if (add.r.status !== 0) throw new Error(add.r.stderr);
  const out = join(dir, 'results');
  const workers = Array.from({ length: WORKERS }, () => spawn(process.execPath, [CLI, 'worker', '--redis', url, '--out', out, '--until-empty', '-q'], { stdio: 'inherit' }));
  await Promise.all(workers.map((w) => new Promise((r) => w.on('exit', r))));
  const queueMs = performance.now() - t0;
  const results = readdirSync(out).length;
  const ratio = single.ms / queueMs;
  // Worker time spent per job beyond what one process spends per host: (queue wall time x workers - single) / N.
  const overheadMs = (queueMs * WORKERS - single.ms) / N;
  console.log(`hosts: ${N} (${results} result files)`);
  console.log(`one process, --hosts-from, 1 thread: ${(single.ms / 1000).toFixed(1)} s, ${(N / (single.ms / 1000)).toFixed(1)} hosts/s`);
  console.log(`redis + ${WORKERS} workers (incl. queue add ${(add.ms / 1000).toFixed(1)} s): ${(queueMs / 1000).toFixed(1)} s, ${(N / (queueMs / 1000)).toFixed(1)} hosts/s`);
  console.log(`throughput ratio (queue / single): ${ratio.toFixed(2)}x on ${WORKERS} workers; per-job overhead: ${overheadMs.toFixed(0)} ms of worker time`);
  if (results !== N) {
    console.error(`expected ${N} result files, got ${results}`);
    process.exitCode = 1;
  }
} finally {
  redis.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
