// An autodiscover.json SSRF line that could be ProxyShell or ProxyNotShell is decided by the build in place when it
// was logged (rules/chain.ts SSRF_FAMILY): the latest full build observed at or before the line, else the earliest
// after it. As test/builds.test.ts pins: 15.2.922.7 is fixed for ProxyShell and open to ProxyNotShell; 15.2.1118.20
// is fixed for both.
import { describe, expect, it } from 'vitest';
import { SSRF_FAMILY } from '../src/rules/chain.js';
import type { Fact, RawFinding } from '../src/model.js';

const EITHER = 'ProxyShell or ProxyNotShell';
const build = (value: string, time: string | null, origin = 'HttpProxy log #Version'): Fact => ({ kind: 'build', value, source: { path: `logs/${value}.log` }, time, origin });
const ssrf = (time: string | null, line: number): RawFinding => ({
  rule: 'PS-02',
  title: 'autodiscover.json SSRF to PowerShell answered 200',
  cves: [],
  severity: 'critical',
  kind: 'exploitation',
  time,
  client_ip: '203.0.113.7',
  source: { path: 'W3SVC1/u_ex221001.log', line },
  summary: 'autodiscover.json SSRF',
  evidence: { family: EITHER },
  lane: 'IIS',
  stage: 'exploited',
});
const apply = (findings: RawFinding[], facts: Fact[]) => SSRF_FAMILY.apply(findings, { facts, since: '2020-12-01T00:00:00.000Z', locate: () => null, paths: [] });

describe('SSRF_FAMILY: the build in place when the line was logged', () => {
  // Out of time order on purpose; a CU-only and an undated build never decide.
  const facts = [build('15.2.1118.20', '2022-12-01T00:00:00.000Z'), build('15.2.922.7', '2022-06-01T00:00:00.000Z'), build('15.2.1118.20', null), build('15.2.986', '2022-01-01T00:00:00.000Z', 'OWA favicon path (CU only)')];

  it('takes the latest build at or before the line, else the earliest after it', () => {
    const [oct, jan23, early, undated] = apply([ssrf('2022-10-01T00:00:00.000Z', 1), ssrf('2023-01-05T00:00:00.000Z', 2), ssrf('2021-11-01T00:00:00.000Z', 3), ssrf(null, 4)], facts);
    for (const f of [oct, early, undated]) {
      expect(f.evidence.family, f.summary).toBe('ProxyNotShell');
      expect(f.rule).toBe('PNS-01');
      expect(f.cves).toEqual(['CVE-2022-41040', 'CVE-2022-41082']);
      expect(f.summary).toContain('the build in place then, 15.2.922.7');
    }
    expect(jan23.evidence.family).toBe(EITHER);
    expect(jan23.summary).toMatch(/the build in place then, 15\.2\.1118\.20 .* does not decide \(ProxyShell fixed, ProxyNotShell fixed\)$/);
  });

  it('says so when no dated full build is known, and leaves the input findings unchanged', () => {
    const input = [ssrf('2022-10-01T00:00:00.000Z', 1)];
    const [f] = apply(input, [build('15.2.1118.20', null)]);
    expect(f.summary).toBe('autodiscover.json SSRF; no build fact tells which');
    expect(input[0].summary).toBe('autodiscover.json SSRF');
  });
});
