// The remote check of one target: version fingerprint, then the safe CVE-2021-26855 probe of Microsoft's nmap script.
import http from 'node:http';
import https from 'node:https';
import { assessBuild } from '../builds/assess.js';
import { FAMILY_IDS, type FamilyId } from '../builds/table.js';
import type { FamilyState } from '../builds/assess.js';
import { VERSION } from '../version.js';
import { exportToolVersion, hasExchangeHeader, owaAuthPath, owaVersionHeader, type BuildClue } from './fingerprint.js';
import { getOnce, header, type Fetched, type Header, type HttpRecord } from './http.js';
import { runPool, sleep, TokenBucket } from './limits.js';
import { parseTarget } from './targets.js';

export const CHECK_STATES = ['vulnerable', 'patched', 'mitigated', 'not-exchange', 'unreachable'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

export interface CheckResult {
  target: string;
  url: string;
  state: CheckState;
  reason: string;
  build: string | null;
  build_source: BuildClue['source'] | null;
  product: string | null;
  cu: string | null;
  families: Record<FamilyId, FamilyState> | null;
  install: string | null;
  /** `cu` when the fingerprint gives the CU only (logon-page path): SU-level CVEs are then unknown. */
  precision: 'full' | 'cu' | null;
  /** CVEs in CISA's KEV catalog the fingerprinted build is exposed to (vulnerable) or may be (unknown). */
  kev: { cve: string; state: FamilyState; kev_added: string; fix: string | null }[] | null;
  fe_server: string | null;
  /** Exact request and response headers of every request made, in order. */
  exchanges: HttpRecord[];
  seconds: number;
}

export interface CheckOptions {
  /** Per-request timeout. */
  timeoutMs: number;
  /** Extra attempts after a connect failure or a timeout. */
  retries: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
  /** Ask for version evidence (logon page, export-tool manifest) before probing. */
  fingerprint: boolean;
  /** Shared across targets; null = unlimited. */
  limiter: TokenBucket | null;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = { timeoutMs: 10_000, retries: 1, backoffMs: 500, fingerprint: true, limiter: null };

/** The NSE request: one GET, exactly this Cookie header (http-vuln-cve2021-26855.nse). */
export const PROBE_PATH = '/owa/auth/x.js';
export const PROBE_COOKIE = 'X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;';
const LOGON_PATH = '/owa/auth/logon.aspx';
const EXPORT_TOOL_PATH = '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application';
const ABORT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function baseHeaders(url: URL): Header[] {
  return [
    ['Host', url.host],
    ['User-Agent', `exhunt/${VERSION} (remote exposure check)`],
    ['Accept', '*/*'],
    ['Connection', 'keep-alive'],
  ];
}

/** Checks one target. Never rejects. */
export async function checkTarget(target: string, options: Partial<CheckOptions> = {}): Promise<CheckResult> {
  const opts = { ...DEFAULT_CHECK_OPTIONS, ...options };
  const started = performance.now();
  let url: URL;
  try {
    url = parseTarget(target);
  } catch (err) {
    return finish(emptyResult(target, '', 'unreachable', (err as Error).message), started);
  }
  // One connection per target, reused for its few requests and closed at the end.
  const agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return finish(await runCheck(target, url, agent, opts), started);
  } finally {
    agent.destroy();
  }
}

async function runCheck(target: string, url: URL, agent: http.Agent, opts: CheckOptions): Promise<CheckResult> {
  const exchanges: HttpRecord[] = [];
  const get = async (name: string, path: string, extra: Header[], maxBody: number): Promise<Fetched> => {
    const f = await getWithRetries(url, name, path, [...baseHeaders(url), ...extra], agent, opts, maxBody);
    exchanges.push(f.record);
    return f;
  };
  const clues: BuildClue[] = [];
  let answered = false;
  let markers = false;
  if (opts.fingerprint) {
    const logon = await get('owa-logon', LOGON_PATH, [], 256 * 1024);
    if (logon.record.error?.phase === 'connect') return withBuild(emptyResult(target, url.href, 'unreachable', describe(logon.record)), exchanges, clues);
    if (logon.record.response) {
      answered = true;
      markers ||= hasExchangeHeader(logon.record.response.headers);
      pushClue(clues, owaVersionHeader(logon.record.response.headers));
      pushClue(clues, owaAuthPath(logon.body));
      if (clues.length > 0) markers = true;
      const tool = await get('exporttool', EXPORT_TOOL_PATH, [], 64 * 1024);
      if (tool.record.response) {
        markers ||= hasExchangeHeader(tool.record.response.headers);
        if (tool.record.response.status === 200) pushClue(clues, exportToolVersion(tool.body));
        if (clues.length > 0) markers = true;
      }
    }
  }
  const probe = await get('probe', PROBE_PATH, [['Cookie', PROBE_COOKIE]], 16 * 1024);
  const verdict = decide(probe.record, { answered, markers, fingerprinted: opts.fingerprint });
  return withBuild(emptyResult(target, url.href, verdict.state, verdict.reason), exchanges, clues);
}

function pushClue(clues: BuildClue[], c: BuildClue | null): void {
  if (c) clues.push(c);
}

/** The verdict from the probe exchange plus what the fingerprint requests showed. */
export function decide(probe: HttpRecord, seen: { answered: boolean; markers: boolean; fingerprinted: boolean }): { state: CheckState; reason: string } {
  if (probe.response) {
    const target = header(probe.response.headers, 'x-calculatedbetarget');
    // NSE v3+: the header alone decides, whatever the status (vulnerable servers may answer 301/302/500).
    if (target !== null && target.toLowerCase().includes('localhost')) {
      return { state: 'vulnerable', reason: `HTTP ${probe.response.status} with X-CalculatedBETarget: ${target.slice(0, 200)} (CVE-2021-26855 SSRF reached the back end)` };
    }
    if (seen.markers || hasExchangeHeader(probe.response.headers)) {
      return { state: 'patched', reason: `HTTP ${probe.response.status} without an X-CalculatedBETarget naming localhost` };
    }
    return { state: 'not-exchange', reason: `HTTP ${probe.response.status}; no Exchange markers in any response` };
  }
  const err = probe.error!;
  if (err.phase === 'connect') return { state: 'unreachable', reason: describe(probe) };
  if (ABORT_CODES.has(err.code)) {
    if (seen.answered || !seen.fingerprinted) {
      return { state: 'mitigated', reason: `connection aborted after the probe was sent (${err.code}) — consistent with the EOMT URL Rewrite rule "X-AnonResource-Backend Abort - inbound"; install the security update` };
    }
    return { state: 'unreachable', reason: `every request was reset (${err.code})` };
  }
  if (err.code.startsWith('HPE_')) return { state: 'not-exchange', reason: `invalid HTTP response (${err.code})` };
  return { state: 'unreachable', reason: describe(probe) };
}

function describe(r: HttpRecord): string {
  const e = r.error!;
  const when = e.phase === 'connect' ? 'before the request was sent' : 'after the request was sent';
  return `${e.code} ${when}: ${e.message} (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})`;
}

/** Retries connect failures and timeouts with exponential backoff; a reset after sending is an answer, not retried. */
async function getWithRetries(url: URL, name: string, path: string, headers: Header[], agent: http.Agent, opts: CheckOptions, maxBody: number): Promise<Fetched> {
  let attempts = 0;
  for (;;) {
    await opts.limiter?.take();
    attempts++;
    let f = await getOnce(url, name, path, headers, { agent, timeoutMs: opts.timeoutMs, maxBody });
    // A kept-alive socket the server had already closed is not the server's answer: redo on a fresh one.
    if (f.record.error && f.reused) {
      attempts++;
      f = await getOnce(url, name, path, headers, { agent: false, timeoutMs: opts.timeoutMs, maxBody });
    }
    f.record.attempts = attempts;
    const e = f.record.error;
    const retryable = e !== null && (e.phase === 'connect' || e.code === 'ETIMEDOUT');
    if (!retryable || attempts > opts.retries) return f;
    await sleep(opts.backoffMs * 2 ** (attempts - 1));
  }
}

function emptyResult(target: string, url: string, state: CheckState, reason: string): CheckResult {
  return { target, url, state, reason, build: null, build_source: null, product: null, cu: null, families: null, install: null, precision: null, kev: null, fe_server: null, exchanges: [], seconds: 0 };
}

// Best clue: full builds (export tool, X-OWA-Version) over the CU-only logon path.
function withBuild(r: CheckResult, exchanges: HttpRecord[], clues: BuildClue[]): CheckResult {
  const order: BuildClue['source'][] = ['exporttool', 'X-OWA-Version', 'owa-auth-path'];
  const best = [...clues].sort((a, b) => order.indexOf(a.source) - order.indexOf(b.source))[0];
  const fe = exchanges.map((x) => (x.response ? header(x.response.headers, 'x-feserver') : null)).find((v) => v !== null) ?? null;
  const out = { ...r, exchanges, fe_server: fe };
  if (!best) return out;
  const a = assessBuild(best.build);
  return {
    ...out,
    build: a.build,
    build_source: best.source,
    product: a.product,
    cu: a.cu,
    families: Object.fromEntries(FAMILY_IDS.map((id) => [id, a.families[id].state])) as Record<FamilyId, FamilyState>,
    install: a.install,
    precision: a.precision,
    kev: a.cves
      .filter((c) => c.kev !== null && (c.state === 'vulnerable' || c.state === 'unknown'))
      .map((c) => ({ cve: c.cve, state: c.state, kev_added: c.kev!, fix: c.fix ? `${c.fix.update} ${c.fix.build}` : null })),
  };
}

function finish(r: CheckResult, started: number): CheckResult {
  return { ...r, seconds: Math.round(performance.now() - started) / 1000 };
}

export interface CheckAllOptions extends Partial<CheckOptions> {
  concurrency: number;
  /** Requests per second across all targets; 0 = unlimited. */
  rate: number;
}

/** Checks every target with bounded concurrency; results arrive through `onResult` in completion order. */
export async function checkAll(targets: Iterable<string> | AsyncIterable<string>, options: CheckAllOptions, onResult: (r: CheckResult, index: number) => void): Promise<void> {
  const limiter = options.rate > 0 ? new TokenBucket(options.rate) : null;
  await runPool(targets, options.concurrency, async (t, i) => onResult(await checkTarget(t, { ...options, limiter }), i));
}
