import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_SINCE } from '../../engine/scan.js';
import { addJobs, connect, shownUrl, DEFAULT_LIMITS, queueStatus, runWorker, type QueueLimits } from '../../engine/queue.js';
import { EXIT, UsageError } from '../errors.js';
import { parseSince } from './scan.js';

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name}: not a positive whole number: ${value}`);
  return n;
}

function limitsFrom(flags: { attempts?: string; stallSeconds?: string; backoffSeconds?: string }): QueueLimits {
  return {
    backoffMs: positive('--backoff-seconds', flags.backoffSeconds, DEFAULT_LIMITS.backoffMs / 1000) * 1000,
    attempts: positive('--attempts', flags.attempts, DEFAULT_LIMITS.attempts),
    stallMs: positive('--stall-seconds', flags.stallSeconds, DEFAULT_LIMITS.stallMs / 1000) * 1000,
  };
}

/** Runs `use` with a connection that is always closed; an unreachable server is one clear line, not a stack. */
async function withRedis<T>(url: string, use: (r: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  let redis;
  try {
    redis = await connect(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const where = shownUrl(url);
  // The first connection error (refused, wrong password, TLS) ends the command with one line; none hangs it.
  // Later errors (a Redis restart under a long-running worker) are retried by the client and BullMQ.
  let onError: (err: Error) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (err) => reject(new Error(`Redis at ${where}: ${err.message}`));
    timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${where} within 10 s`)), 10_000);
  });
  redis.once('error', onError);
  try {
    await Promise.race([redis.ping(), failed]);
    clearTimeout(timer);
    redis.removeListener('error', onError);
    redis.on('error', () => undefined); // logged by the worker; the client reconnects
    return await use(redis);
  } catch (err) {
    throw new UsageError((err as Error).message);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('share scanning between machines through Redis (BullMQ): add hosts, see progress');
  queue
    .command('add')
    .description('queue each PATH (one host, on storage every worker can read) for scanning; only paths go to Redis')
    .argument('<PATH...>', 'host evidence: folder, zip or file, as the workers see it')
    .requiredOption('--redis <URL>', 'redis://[user:password@]host:port[/db], or rediss:// for TLS')
    .option('--since <DATE>', 'start of the exposure window', DEFAULT_SINCE.slice(0, 10))
    .option('--attempts <N>', 'tries per host before it is reported as failed', String(DEFAULT_LIMITS.attempts))
    .option('--backoff-seconds <N>', 'wait before the first retry (doubles each time)', String(DEFAULT_LIMITS.backoffMs / 1000))
    .action(async (paths: string[], flags: { redis: string; since: string; attempts?: string; backoffSeconds?: string }) => {
      const since = parseSince(flags.since);
      const limits = limitsFrom(flags);
      const missing = paths.filter((p) => !existsSync(p));
      if (missing.length) process.stderr.write(`exhunt: warning: not visible from this machine (workers must see them): ${missing.join(', ')}\n`);
      const r = await withRedis(flags.redis, (redis) => addJobs(redis, paths, { since, iocFiles: [], yaraRules: null }, limits));
      process.stdout.write(`queued ${r.added} host${r.added === 1 ? '' : 's'}${r.already ? ` (${r.already} already in the queue, not added again)` : ''}\n`);
    });
  queue
    .command('status')
    .description('counts by state, then every host that failed with its error')
    .requiredOption('--redis <URL>', 'redis://[user:password@]host:port[/db], or rediss:// for TLS')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { redis: string; json?: boolean }) => {
      const s = await withRedis(flags.redis, (redis) => queueStatus(redis));
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else {
        const c = s.counts;
        process.stdout.write(`waiting ${c.waiting + c.prioritized}, running ${c.active}, retrying ${c.delayed}, done ${c.completed}, failed ${c.failed}\n`);
        for (const f of s.failed) process.stdout.write(`FAILED ${f.path} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.error}\n`);
      }
      process.exitCode = s.failed.length ? EXIT.FINDINGS : EXIT.CLEAN;
    });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('scan hosts from the Redis queue, one result file per host in DIR (then: exhunt report DIR/*.json)')
    .requiredOption('--redis <URL>', 'redis://[user:password@]host:port[/db], or rediss:// for TLS')
    .requiredOption('--out <DIR>', 'folder for the result files (shared or per worker)')
    .option('--concurrency <N>', 'hosts scanned at once by this worker', '1')
    .option('--stall-seconds <N>', 'a job whose worker is silent this long is handed to another worker', String(DEFAULT_LIMITS.stallMs / 1000))
    .option('--until-empty', 'exit when the queue has nothing left to run')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (flags: { redis: string; out: string; concurrency: string; stallSeconds?: string; untilEmpty?: boolean; quiet?: boolean }) => {
      const concurrency = positive('--concurrency', flags.concurrency, 1);
      const limits = limitsFrom(flags);
      const log = flags.quiet ? undefined : (line: string) => process.stderr.write(`exhunt worker ${process.pid}: ${line}\n`);
      const r = await withRedis(flags.redis, (redis) => runWorker({ redis, out: flags.out, concurrency, limits, untilEmpty: flags.untilEmpty, log }));
      if (!flags.quiet) process.stderr.write(`exhunt worker ${process.pid}: ${r.done} done, ${r.failed} failed\n`);
    });
}
