// `exhunt report` over grouped rows (engine/group.ts): a flood collapsed into one row still links hosts through its
// samples and most frequent client IPs.
import { describe, expect, it } from 'vitest';
import type { Finding, HostResult } from '../src/model.js';
import { campaigns, summariseHost } from '../src/report/fleet-report.js';

function host(name: string, ips: string[]): HostResult {
  const row: Finding = {
    id: 'F0001',
    rule: 'PS-01',
    title: 'ProxyShell autodiscover SSRF reached the back end',
    cves: ['CVE-2021-34473'],
    severity: 'critical',
    kind: 'exploitation',
    time: '2021-08-20T10:00:00.000Z',
    client_ip: ips[0],
    source: { path: 'inetpub/logs/LogFiles/W3SVC1/u_ex210820.log', line: 6 },
    summary: '5,000 findings of this kind (grouped; first: …)',
    evidence: { url: '/autodiscover/autodiscover.json?@evil.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.com', status: 200 },
    lane: 'IIS',
    stage: 'exploited',
    group: {
      count: 5000,
      first_time: '2021-08-20T10:00:00.000Z',
      last_time: '2021-08-21T10:00:00.000Z',
      folder: 'inetpub/logs/LogFiles/W3SVC1/',
      distinct_ips: ips.length,
      client_ips: ips.map((ip, i) => ({ ip, count: 100 - i })),
      first: [{ time: '2021-08-20T10:00:00.000Z', client_ip: ips[0], source: { path: 'inetpub/logs/LogFiles/W3SVC1/u_ex210820.log', line: 6 }, summary: 'first' }],
      last: [{ time: '2021-08-21T10:00:00.000Z', client_ip: ips.at(-1)!, source: { path: 'inetpub/logs/LogFiles/W3SVC1/u_ex210821.log', line: 9 }, summary: 'last' }],
    },
  };
  return { name, label: name, inputs: [name], verdict: 'compromised', reasons: [], coverage: [], findings: [row], facts: [], skipped: [], stats: { files_seen: 1, files_scanned: 1, files_ignored: 0, bytes_scanned: 1, seconds: 0 }, incidents: [], timeline: [], stage: 'exploited', shells: [], coverage_gaps: [] };
}

describe('fleet pivots of grouped rows', () => {
  it('links hosts through any of a group\'s top client IPs, one count per row', () => {
    const a = summariseHost(host('MAIL01', ['198.51.100.1', '198.51.100.2', '198.51.100.3']), '2021-09-01T00:00:00.000Z', 'a.json');
    const b = summariseHost(host('MAIL02', ['203.0.113.9', '198.51.100.3']), '2021-09-01T00:00:00.000Z', 'b.json');
    expect(a.sightings.filter((s) => s.pivot === 'ip').map((s) => s.value).sort()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(a.sightings.every((s) => s.findings === 1)).toBe(true);
    const ip = campaigns([a, b]).filter((c) => c.pivot === 'ip');
    expect(ip.map((c) => c.value)).toEqual(['198.51.100.3']);
    expect(ip[0].hosts).toEqual(['MAIL01', 'MAIL02']);
  });

  it('links no hosts by private, loopback or link-local addresses (review10 R6: a back end\'s own 10.x was an "attacker IP")', () => {
    const local = ['10.2.0.12', '192.168.1.5', '172.20.0.4', '127.0.0.1', '::1', 'fe80::1', '::ffff:10.0.0.9', '100.64.0.1'];
    const a = summariseHost(host('MAIL01', [...local, '198.51.100.3']), '2021-09-01T00:00:00.000Z', 'a.json');
    const b = summariseHost(host('MAIL02', ['198.51.100.3', ...local]), '2021-09-01T00:00:00.000Z', 'b.json');
    expect(campaigns([a, b]).filter((c) => c.pivot === 'ip').map((c) => c.value)).toEqual(['198.51.100.3']);
    expect(a.sightings.filter((s) => s.pivot === 'ip').map((s) => s.value)).toEqual(['198.51.100.3']);
  });

  it("shows the build the verdict judged: the newest full build, not the last by string sort (review10 R5)", () => {
    const build = (value: string, time: string | null, origin = '#Version') => ({ kind: 'build' as const, value, time, origin, source: { path: 'Logging/HttpProxy/Owa/x.LOG', line: 3 } });
    const h = host('MAIL03', ['198.51.100.7']);
    // Upgraded from CU11 to CU12 in February 2022: both #Versions are in its logs.
    h.facts = [build('15.2.986.5', '2021-11-02T10:00:00.000Z'), build('15.2.1118.7', '2022-03-01T10:00:00.000Z'), build('15.2.1118', null, 'owa\\auth folder')];
    expect(summariseHost(h, '2022-04-01T00:00:00.000Z', 'c.json').build).toBe('15.2.1118.7');
  });
});
