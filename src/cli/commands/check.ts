import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { examples } from '../help.js';
import { checkAll, type CheckResult, type CheckState } from '../../remote/check.js';
import { buildExposed, csvHeader, csvRow, FORMATS, printable, textLine, type Format } from '../../remote/format.js';
import { numberedTargetLines, parseTarget } from '../../remote/targets.js';
import { VERSION } from '../../version.js';
import { ERROR_PREFIX, EXIT, UsageError } from '../errors.js';

interface CheckCliOptions {
  targets?: string;
  concurrency: string;
  rate: string;
  timeout: string;
  retries: string;
  format: string;
  fingerprint: boolean;
  progress: boolean;
}

const HELP = `
What it sends (unauthenticated, read-only): GET /owa/auth/logon.aspx and the ECP export-tool manifest (version
evidence), then the safe CVE-2021-26855 probe of Microsoft's nmap script: GET /owa/auth/x.js with the cookies
X-AnonResource / X-AnonResource-Backend / X-BEResource. Vulnerable when X-CalculatedBETarget names localhost.

WARNING: the probe leaves a row in the server's HttpProxy\\Owa log (AnchorMailbox=ServerInfo~localhost/ecp/default.flt?,
RoutingHint=X-AnonResource-Backend-Cookie) that \`exhunt scan\` classifies as a scanner probe. Only check servers
you are authorised to test, and tell the server's owners before you do.

States (the ProxyLogon probe's answer): vulnerable | patched | mitigated (connection aborted, consistent with the EOMT
URL Rewrite rule) | not-exchange | unreachable. A fingerprinted build vulnerable to a family or a KEV CVE is said on
the line whatever the state. Exit code 1 when any target is vulnerable, else 3 when any build is. See docs/check.md.`;

export function registerCheck(program: Command): void {
  program
    .command('check')
    .addHelpText('after', examples([
      'exhunt check https://mail.example.org',
      'exhunt check --targets servers.txt --format csv > check.csv',
      'exhunt check mail.example.org:8443 --no-fingerprint --format json',
    ]))
    .description('remote exposure check of Exchange servers: version fingerprint and the safe ProxyLogon probe')
    .argument('[URL...]', 'https://host[:port], host or host:port')
    .option('--targets <FILE>', 'file with one URL or host[:port] per line (# comments)')
    .option('--concurrency <N>', 'targets checked at once', '16')
    .option('--rate <N>', 'requests per second across all targets (0 = unlimited)', '0')
    .option('--timeout <MS>', 'per-request timeout in milliseconds', '10000')
    .option('--retries <N>', 'extra attempts after a connect failure or timeout', '1')
    .option('--format <FORMAT>', `output: ${FORMATS.join(', ')}`, 'text')
    .option('--no-fingerprint', 'skip the version requests; send only the probe')
    .option('--no-progress', 'no progress line on a terminal')
    .addHelpText('after', HELP)
    .action(async (urls: string[], opts: CheckCliOptions) => {
      const targets = collectTargets(urls, opts.targets);
      const format = parseFormat(opts.format);
      const { counts, exposed } = await run(targets, format, {
        concurrency: positiveInt(opts.concurrency, '--concurrency', 1),
        rate: positiveInt(opts.rate, '--rate', 0),
        timeoutMs: positiveInt(opts.timeout, '--timeout', 1),
        retries: positiveInt(opts.retries, '--retries', 0),
        fingerprint: opts.fingerprint,
        progress: opts.progress && process.stderr.isTTY === true,
      });
      if (counts.vulnerable > 0) process.exitCode = EXIT.FINDINGS;
      else if (exposed > 0) process.exitCode = EXIT.EXPOSURE;
    });
}

/**
 * Targets from the command line (a bad one is a usage error) and from --targets (a bad line is named with its line
 * number on stderr and skipped: one typo must not stop a 10,000-server check).
 */
function collectTargets(urls: string[], file: string | undefined): string[] {
  for (const t of urls) {
    try {
      parseTarget(t);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const lines = [...urls];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --targets ${file}: ${(err as Error).message}`);
    }
    let bad = 0;
    for (const l of numberedTargetLines(text)) {
      try {
        parseTarget(l.text);
        lines.push(l.text);
      } catch (err) {
        bad++;
        process.stderr.write(`${ERROR_PREFIX} --targets ${printable(file)}:${l.line}: ${printable((err as Error).message)}; line skipped\n`);
      }
    }
    if (bad > 0) process.stderr.write(`${ERROR_PREFIX} --targets: ${bad} bad line${bad === 1 ? '' : 's'} skipped\n`);
  }
  if (lines.length === 0) throw new UsageError('no targets: give URLs or --targets FILE');
  return lines;
}

function parseFormat(s: string): Format {
  if (!(FORMATS as readonly string[]).includes(s)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  return s as Format;
}

function positiveInt(s: string, flag: string, min: number): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}`);
  return n;
}

interface RunOptions {
  concurrency: number;
  rate: number;
  timeoutMs: number;
  retries: number;
  fingerprint: boolean;
  progress: boolean;
}

/** Results per state, and how many targets run a build with a vulnerable family or KEV CVE. */
async function run(targets: string[], format: Format, o: RunOptions): Promise<{ counts: Record<CheckState, number>; exposed: number }> {
  const counts: Record<CheckState, number> = { vulnerable: 0, patched: 0, mitigated: 0, 'not-exchange': 0, unreachable: 0 };
  let exposed = 0;
  // JSON is printed sorted at the end; the streaming formats write each result as it completes.
  const collected: CheckResult[] = [];
  const started = new Date().toISOString();
  if (format === 'csv') process.stdout.write(`${csvHeader()}\n`);
  let done = 0;
  let lastDraw = 0;
  await checkAll(targets, { concurrency: o.concurrency, rate: o.rate, timeoutMs: o.timeoutMs, retries: o.retries, fingerprint: o.fingerprint }, (r, i) => {
    counts[r.state]++;
    if (buildExposed(r)) exposed++;
    done++;
    if (format === 'json') collected[i] = r;
    else process.stdout.write(`${format === 'text' ? textLine(r) : format === 'csv' ? csvRow(r, i) : JSON.stringify({ index: i, ...r })}\n`);
    if (o.progress && (Date.now() - lastDraw > 100 || done === targets.length)) {
      lastDraw = Date.now();
      process.stderr.write(`\r\x1b[K[${done}/${targets.length}] ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
  });
  if (o.progress) process.stderr.write('\n');
  if (format === 'json') {
    const tool = { name: 'exhunt', version: VERSION, started, finished: new Date().toISOString() };
    process.stdout.write(`${JSON.stringify({ schema: 'exhunt.check/1', tool, summary: counts, results: collected }, null, 2)}\n`);
  }
  return { counts, exposed };
}
