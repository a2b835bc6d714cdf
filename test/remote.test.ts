import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildExposed, checkAll, checkTarget, csvRow, parseTarget, PROBE_COOKIE, printable, targetLines, textLine, TokenBucket, type CheckResult } from '../src/remote/index.js';
import { closedPort, makeTestCert, startMock, type Behaviour, type MockServer, type TestCert } from './fixtures/remote/mock-exchange.js';

// Short timeouts keep the slow-server cases bounded; nothing here asserts on elapsed time.
const FAST = { timeoutMs: 2000, retries: 0, backoffMs: 10 };

let cert: TestCert;
const servers: MockServer[] = [];

async function mock(behaviour: Behaviour, extra: { build?: string; tls?: boolean } = {}): Promise<MockServer> {
  const s = await startMock({ behaviour, cert, ...extra });
  servers.push(s);
  return s;
}

function probeRecord(r: CheckResult) {
  return r.exchanges.find((x) => x.name === 'probe');
}

beforeAll(() => {
  cert = makeTestCert();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('checkTarget against mock Exchange servers', () => {
  it('vulnerable: X-CalculatedBETarget names localhost; build from X-OWA-Version / export tool', async () => {
    const s = await mock('vulnerable', { build: '15.1.2176.2' });
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('vulnerable');
    expect(r).toMatchObject({ build: '15.1.2176.2', build_source: 'exporttool', product: 'Exchange 2016', cu: 'CU19', fe_server: 'EX01' });
    expect(r.families).toMatchObject({ proxylogon: 'vulnerable' });
    // The exact request and response headers are recorded, and the server saw exactly the NSE cookie.
    const p = probeRecord(r)!;
    expect(p.request.headers).toContainEqual(['Cookie', PROBE_COOKIE]);
    expect(p.response!.headers).toContainEqual(['X-CalculatedBETarget', 'localhost']);
    expect(s.probes).toEqual([PROBE_COOKIE]);
    expect(r.exchanges.map((x) => x.name)).toEqual(['owa-logon', 'exporttool', 'probe']);
  });

  it('vulnerable on a 302 answer too (redirects are not followed)', async () => {
    const s = await mock('vulnerable-302');
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('vulnerable');
    expect(probeRecord(r)!.response!.status).toBe(302);
    expect(s.paths).not.toContain('/owa/');
  });

  it('patched: Exchange markers, back-end target is not localhost', async () => {
    const s = await mock('patched', { build: '15.1.2176.14' });
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('patched');
    expect(r.families).toMatchObject({ proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'vulnerable' });
    // `patched` is the probe's answer: the line says the build is still open (review9 F4).
    expect(textLine(r)).toMatch(/^patched .* — BUILD VULNERABLE to ProxyNotShell \/ OWASSRF — HTTP 500/);
    expect(buildExposed(r)).toBe(true);
  });

  it('current builds: Exchange SE and 2019 CU15 fingerprints, with the KEV CVEs each is exposed to', async () => {
    const se = await checkTarget((await mock('patched', { build: '15.2.2562.57' })).url, FAST);
    expect(se).toMatchObject({ product: 'Exchange SE', cu: 'RTM', precision: 'full' });
    expect(se.kev!.filter((k) => k.state === 'vulnerable')).toEqual([]);
    expect([buildExposed(se), textLine(se).includes('VULNERABLE')]).toEqual([false, false]);
    const e19 = await checkTarget((await mock('patched', { build: '15.2.1748.43' })).url, FAST);
    expect(e19).toMatchObject({ product: 'Exchange 2019', cu: 'CU15' });
    expect(e19.kev).toContainEqual({ cve: 'CVE-2026-42897', state: 'vulnerable', kev_added: '2026-05-15', fix: 'Jun26SU 15.2.1748.46' });
    expect(textLine(e19)).toContain('KEV exposed: CVE-2026-42897');
    expect(csvRow(e19, 0)).toMatch(/,"?CVE-2026-42897"?$/);
  });

  it('a CU-only fingerprint says so and leaves SU-level KEV CVEs undecided', () => {
    const r = { target: 't', url: 'https://t/', state: 'patched', reason: 'r', build: '15.2.1748', build_source: 'owa-auth-path', product: 'Exchange 2019', cu: 'CU15', families: null, install: null, precision: 'cu', kev: [{ cve: 'CVE-2026-42897', state: 'unknown', kev_added: '2026-05-15', fix: 'Jun26SU 15.2.1748.46' }], fe_server: null, exchanges: [], seconds: 0 } as CheckResult;
    expect(textLine(r)).toContain('(CU only: fingerprint gives no SU level)');
    expect(textLine(r)).toContain('KEV undecided (CU only): CVE-2026-42897');
  });

  it('mitigated: the probe connection is aborted while normal requests are answered', async () => {
    const s = await mock('mitigated');
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('mitigated');
    expect(r.reason).toMatch(/EOMT/);
    const p = probeRecord(r)!;
    expect(p.response).toBeNull();
    expect(p.error).toMatchObject({ phase: 'sent', code: 'ECONNRESET' });
    // The reset came on the kept-alive socket, so it was confirmed once on a fresh connection.
    expect(s.probes).toHaveLength(p.attempts);
  });

  it('mitigated with --no-fingerprint sends only the probe', async () => {
    const s = await mock('mitigated');
    const r = await checkTarget(s.url, { ...FAST, fingerprint: false });
    expect(r.state).toBe('mitigated');
    expect(s.paths).toEqual(['/owa/auth/x.js']);
  });

  it('CU-only fingerprint: build from the logon page path, SU level unknown', async () => {
    const s = await mock('cu-only', { build: '15.2.792.3' });
    const r = await checkTarget(s.url, FAST);
    expect(r).toMatchObject({ state: 'patched', build: '15.2.792', build_source: 'owa-auth-path', cu: 'CU8' });
    expect(r.families).toMatchObject({ proxylogon: 'unknown', proxyshell: 'unknown', proxynotshell: 'vulnerable' });
  });

  it('not-exchange: a generic web server', async () => {
    const s = await mock('not-exchange');
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('not-exchange');
    expect(r.build).toBeNull();
  });

  it('plain HTTP targets work the same way', async () => {
    const s = await mock('vulnerable', { tls: false });
    expect((await checkTarget(s.url, FAST)).state).toBe('vulnerable');
  });

  it('slow: no answer within the timeout is unreachable, not mitigated, after the configured retries', async () => {
    const s = await mock('slow');
    const r = await checkTarget(s.url, { timeoutMs: 150, retries: 1, backoffMs: 10, fingerprint: false });
    expect(r.state).toBe('unreachable');
    expect(probeRecord(r)!).toMatchObject({ attempts: 2, error: { phase: 'sent', code: 'ETIMEDOUT' } });
    expect(s.probes.length).toBe(2);
  });

  it('misbehaving: a non-HTTP banner over TLS is not-exchange', async () => {
    const s = await mock('garbage');
    const r = await checkTarget(s.url, { ...FAST, fingerprint: false });
    expect(r.state).toBe('not-exchange');
    expect(probeRecord(r)!.error!.code).toMatch(/^HPE_/);
  });

  it('misbehaving: a server that resets every request is unreachable, not mitigated', async () => {
    const s = await mock('reset-all');
    const r = await checkTarget(s.url, FAST);
    expect(r.state).toBe('unreachable');
    expect(r.reason).toMatch(/every request was reset/);
  });

  it('connection refused is unreachable with phase connect, and retried', async () => {
    const port = await closedPort();
    const r = await checkTarget(`127.0.0.1:${port}`, { ...FAST, retries: 2 });
    expect(r.state).toBe('unreachable');
    expect(r.exchanges[0]).toMatchObject({ attempts: 3, error: { phase: 'connect', code: 'ECONNREFUSED' } });
    expect(r.exchanges).toHaveLength(1);
  });

  it('a malformed target is reported, not thrown', async () => {
    const r = await checkTarget('ftp://127.0.0.1/', FAST);
    expect(r.state).toBe('unreachable');
    expect(r.reason).toMatch(/scheme/);
  });
});

describe('checkAll', () => {
  it('checks every target with bounded concurrency and reports each once', async () => {
    const kinds: Behaviour[] = ['vulnerable', 'patched', 'mitigated', 'not-exchange'];
    const fleet = await Promise.all(Array.from({ length: 12 }, (_, i) => mock(kinds[i % kinds.length])));
    const seen: Array<[number, CheckResult]> = [];
    let inFlight = 0;
    let peak = 0;
    const targets = (function* () {
      for (const s of fleet) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        yield s.url;
      }
    })();
    await checkAll(targets, { concurrency: 3, rate: 0, ...FAST }, (r, i) => {
      inFlight--;
      seen.push([i, r]);
    });
    expect(peak).toBeLessThanOrEqual(3);
    expect(seen.map(([i]) => i).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    for (const [i, r] of seen) expect(r.state).toBe(kinds[i % kinds.length] === 'mitigated' ? 'mitigated' : kinds[i % kinds.length]);
    // One connection per target: keep-alive reuse for its three requests, except the aborted probe.
    for (const s of fleet.filter((_, i) => kinds[i % kinds.length] === 'vulnerable')) expect(s.peakConnections()).toBe(1);
  });
});

describe('TokenBucket', () => {
  it('grants a burst, then one token per 1/rate seconds', async () => {
    vi.useFakeTimers();
    try {
      const bucket = new TokenBucket(2, 2, () => Date.now());
      const granted: number[] = [];
      const all = [0, 1, 2, 3].map((i) => bucket.take().then(() => granted.push(i)));
      await vi.advanceTimersByTimeAsync(0);
      expect(granted).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(499);
      expect(granted).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(1);
      expect(granted).toEqual([0, 1, 2]);
      await vi.advanceTimersByTimeAsync(500);
      await Promise.all(all);
      expect(granted).toEqual([0, 1, 2, 3]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('targets and output', () => {
  it('parses URLs and host[:port], ignoring paths', () => {
    expect(parseTarget('mail.example.org').href).toBe('https://mail.example.org/');
    expect(parseTarget('127.0.0.1:8443').href).toBe('https://127.0.0.1:8443/');
    expect(parseTarget('https://mail.example.org/owa/').href).toBe('https://mail.example.org/');
    expect(parseTarget('[::1]:443').href).toBe('https://[::1]/');
    expect(parseTarget('10.0.0.1:80').protocol).toBe('http:');
    expect(() => parseTarget('a b')).toThrow();
  });

  it('reads targets files with # comments', () => {
    expect(targetLines('# fleet\nmail.example.org\n\n  10.0.0.5:8443  # lab\r\n#x\n')).toEqual(['mail.example.org', '10.0.0.5:8443']);
  });

  it('defuses terminal escapes and spreadsheet formulas from server strings', () => {
    expect(printable('EX01\u001b[2J')).toBe('EX01?[2J');
    const r = { target: 't', url: 'u', state: 'patched', reason: '=HYPERLINK("x")', build: null, build_source: null, product: null, cu: null, families: null, install: null, precision: null, kev: null, fe_server: '@evil', exchanges: [], seconds: 0 } as CheckResult;
    const row = csvRow(r, 0);
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(row).toContain(`"'@evil"`);
    // A leading tab is defused first, then printed as '?'; ESC is named by csvCell; numbers and nulls stay bare.
    const tab = csvRow({ ...r, reason: '\tcmd\u001b[2J', fe_server: null, seconds: 1.5 }, 7);
    expect(tab.startsWith('7,')).toBe(true);
    expect(tab).toContain(`"'?cmd\\x1b[2J"`);
    expect(tab.endsWith(',,,,1.5,')).toBe(true); // kev_exposed empty
  });
});
