// Synthetic findings and hosts for the verdict, correlation and report tests (shapes as the engine emits them).
import type { Coverage, Finding, HostResult, Lane, ScanReport } from '../../src/model.js';
import { judgeHost } from '../../src/engine/host.js';
import { findingStage } from '../../src/semantics.js';

/** The lane the scanner that parses each fixture path would set (engines set it from the format, not the path). */
function fixtureLane(path: string): Lane {
  if (path.endsWith('.evtx')) return 'Event logs';
  if (path.includes('/OABGeneratorLog/')) return 'OABGenerator';
  if (path.includes('/W3SVC')) return 'IIS';
  if (path.includes('Logging/HttpProxy/')) return 'HttpProxy';
  if (path.includes('Logging/ECP/')) return 'ECP';
  return 'Files';
}

export function finding(p: Partial<Finding> & Pick<Finding, 'id' | 'rule' | 'kind'>): Finding {
  const f = {
    title: `${p.rule} title`,
    cves: [],
    severity: 'high' as const,
    time: null,
    client_ip: null,
    source: { path: 'Logging/HttpProxy/Ecp/HttpProxy_2021030308-1.LOG', line: 10 },
    summary: `${p.rule} summary`,
    evidence: {},
    ...p,
  };
  return { ...f, lane: p.lane ?? fixtureLane(f.source.path), stage: p.stage !== undefined ? p.stage : findingStage(f) };
}

export function cov(source: string, format: string, first: string | null, last: string | null): Coverage {
  return { source, format, files: 3, records: 1000, first, last };
}

const HP = 'Logging/HttpProxy/Ecp/HttpProxy_2021030308-1.LOG';
const ECP = 'Logging/ECP/Server/ECPServer2021030308-1.LOG';
const OAB = 'Logging/OABGeneratorLog/OABGenerator20210303-1.LOG';
const IIS = 'inetpub/logs/LogFiles/W3SVC1/u_ex210305.log';
const SHELL_DISK = 'Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx';
const ATTACKER = '130.255.189.21';

/** The HelseCERT-style chain: SSRF → ECP cmdlet → OAB write → shell on disk → shell used → lsass dump; plus noise. */
export function compromisedFindings(): Finding[] {
  return [
    finding({ id: 'F1', rule: 'PL-02', kind: 'exploitation', severity: 'critical', cves: ['CVE-2021-26855'], time: '2021-03-03T08:12:01.000Z', client_ip: ATTACKER, source: { path: HP, line: 5 }, evidence: { request_id: 'A1B2-0001', anchor_mailbox: 'ServerInfo~a]@mail01:444/ecp/proxyLogon.ecp', status: 241, url: '/ecp/y.js', method: 'POST' } }),
    finding({ id: 'F2', rule: 'PL-23', kind: 'exploitation', severity: 'critical', cves: ['CVE-2021-27065'], time: '2021-03-03T08:12:09.000Z', client_ip: ATTACKER, source: { path: HP, line: 9 }, evidence: { ecp_canary: 'Cnry8BeqxxxWYd1L8.', status: 200, url: '/ecp/y.js' } }),
    finding({ id: 'F3', rule: 'PL-22', kind: 'exploitation', severity: 'critical', cves: ['CVE-2021-27065'], time: '2021-03-03T08:12:08.000Z', source: { path: ECP, line: 3 }, evidence: { ecp_canary: 'Cnry8BeqxxxWYd1L8.', cmdlet: 'Set-OabVirtualDirectory' } }),
    finding({ id: 'F4', rule: 'PL-30', kind: 'exploitation', severity: 'critical', cves: ['CVE-2021-26858'], time: '2021-03-03T08:12:11.000Z', source: { path: OAB, line: 7 }, evidence: { file: 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\shell.aspx' } }),
    finding({ id: 'F5', rule: 'WS-20', kind: 'webshell', severity: 'critical', time: '2021-03-03T08:12:11.000Z', source: { path: SHELL_DISK }, evidence: { file: SHELL_DISK, sha256: 'b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0' } }),
    finding({ id: 'F6', rule: 'WS-40', kind: 'webshell', severity: 'high', time: '2021-03-05T10:00:00.000Z', client_ip: '139.162.202.236', source: { path: IIS, line: 40 }, evidence: { url: '/owa/auth/shell.aspx', status: 200, method: 'POST', user_agent: 'Mozilla/5.0' } }),
    finding({ id: 'F7', rule: 'PX-06', kind: 'post-exploitation', severity: 'critical', time: '2021-03-05T10:00:03.000Z', source: { path: 'Windows/System32/winevt/Logs/Security.evtx', record: 4711 }, summary: 'rundll32 comsvcs.dll MiniDump of lsass', evidence: { file: 'C:\\root\\lsass.dmp' } }),
    // Two scanners and one failed attempt from elsewhere.
    finding({ id: 'F8', rule: 'PL-05', kind: 'scan', severity: 'low', time: '2021-03-02T01:00:00.000Z', client_ip: '45.77.1.1', evidence: { anchor_mailbox: 'ServerInfo~burpcollaborator.net/ecp/default.flt?' } }),
    finding({ id: 'F9', rule: 'PX-R1', kind: 'scan', severity: 'low', time: '2021-03-04T01:00:00.000Z', client_ip: '45.77.2.2', source: { path: IIS, line: 3 }, evidence: { url: '/owa/auth/x.js' } }),
    finding({ id: 'F10', rule: 'PL-03', kind: 'attempt', severity: 'medium', time: '2021-03-06T02:00:00.000Z', client_ip: '67.205.176.9', evidence: { anchor_mailbox: 'ServerInfo~a]@mail01:444/autodiscover/autodiscover.xml?#', status: 200 } }),
  ];
}

export function scannedFindings(): Finding[] {
  return [
    finding({ id: 'S1', rule: 'PL-04', kind: 'scan', severity: 'critical', time: '2021-03-07T01:00:00.000Z', client_ip: '45.77.3.3', evidence: { url: '/owa/auth/x.js', status: 500 } }),
    finding({ id: 'S2', rule: 'PL-04', kind: 'scan', severity: 'low', time: '2021-03-07T01:20:00.000Z', client_ip: '45.77.3.3', evidence: { url: '/owa/auth/x.js', status: 500 } }),
  ];
}

export const FULL_COVERAGE: Coverage[] = [
  cov('HttpProxy/Ecp', 'httpproxy', '2020-12-01T00:00:03.000Z', '2021-03-10T23:59:00.000Z'),
  cov('IIS W3SVC1', 'iis', '2020-11-20T00:00:00.000Z', '2021-03-10T23:00:00.000Z'),
];

export const SINCE = '2021-01-01T00:00:00.000Z';

/** A host as the engine finishes it (incidents, timeline, shells, coverage gaps), with the verdict given. */
export function host(name: string, findings: Finding[], coverage: Coverage[], verdict: HostResult['verdict'] = 'clean'): HostResult {
  return {
    ...judgeHost(findings, coverage, SINCE),
    name,
    inputs: [`/evidence/${name}`],
    verdict,
    reasons: [],
    coverage,
    findings,
    facts: [],
    skipped: [],
    stats: { files_seen: 10, files_scanned: 8, files_ignored: 2, bytes_scanned: 123456, seconds: 1.5 },
  };
}

export function report(hosts: HostResult[]): ScanReport {
  return {
    schema: 'exhunt.scan/1',
    tool: { name: 'exhunt', version: '0.1.0', started: '2021-03-11T09:00:00.000Z', finished: '2021-03-11T09:00:05.000Z', command: ['scan'], options: { since: SINCE } },
    hosts,
  };
}
