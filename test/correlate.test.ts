import { describe, expect, it } from 'vitest';
import { confirmedShells, correlate } from '../src/engine/correlate.js';
import type { HostResult } from '../src/model.js';
import { fileKey, laneOfFormat, normalizeIp } from '../src/semantics.js';
import { attackSpan } from '../src/report/summary.js';
import { compromisedFindings, finding, FULL_COVERAGE, host, scannedFindings } from './support/report-fixtures.js';


const correlateHost = (h: HostResult) => correlate(h.findings);

describe('fileKey', () => {
  it('makes a Windows path, a URL path, an evidence path, a UNC export path and a full URL meet', () => {
    const forms = [
      'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\Shell.aspx',
      '/owa/auth/shell.aspx',
      'host1/Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx',
      'https://mail.example.com/owa/auth/shell.aspx?cmd=whoami',
      '/owa/auth/%73hell.aspx',
    ];
    expect(new Set(forms.map(fileKey))).toEqual(new Set(['auth/shell.aspx']));
    expect(fileKey('\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\p433.aspx')).toBe('aspnet_client/p433.aspx');
    expect(fileKey('C:\\inetpub\\wwwroot\\s.aspx')).toBe(fileKey('/s.aspx'));
    expect(fileKey('/ecp/auth/x.aspx')).not.toBe(fileKey('/owa/x.aspx'));
    expect(fileKey('   ')).toBeNull();
    expect(fileKey('/owa/%zz.aspx')).toBe('owa/%zz.aspx');
  });
});

describe('confirmedShells', () => {
  it('names a shell by its path in the evidence, not by the UNC path a cmdlet wrote it to (review9 F6)', () => {
    const shells = confirmedShells([
      finding({ id: 'F1', rule: 'PS-08', kind: 'webshell', severity: 'critical', evidence: { file: '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\xfrdhsw.aspx' } }),
      finding({ id: 'F2', rule: 'WS-20', kind: 'webshell', severity: 'critical', evidence: { file: 'C/inetpub/wwwroot/aspnet_client/xfrdhsw.aspx' } }),
      finding({ id: 'F3', rule: 'WS-40', kind: 'webshell', severity: 'critical', evidence: { url: '/aspnet_client/xfrdhsw.aspx', status: 200 } }),
    ]);
    expect([...shells.values()]).toEqual(['C/inetpub/wwwroot/aspnet_client/xfrdhsw.aspx']);
  });
});

describe('normalizeIp / laneOfFormat', () => {
  it('strips ports and IPv4-mapped prefixes', () => {
    expect(normalizeIp('1.2.3.4:5678')).toBe('1.2.3.4');
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(normalizeIp('1.2.3.4, 10.0.0.1')).toBe('1.2.3.4');
    expect(normalizeIp('-')).toBeNull();
  });
  it('names the evidence lane from the format that parsed the evidence, never from the path', () => {
    expect(laneOfFormat('httpproxy')).toBe('HttpProxy');
    expect(laneOfFormat('ecp-server')).toBe('ECP');
    expect(laneOfFormat('ecp-activity')).toBe('ECP');
    expect(laneOfFormat('oabgen')).toBe('OABGenerator');
    expect(laneOfFormat('iis')).toBe('IIS');
    expect(laneOfFormat('evtx')).toBe('Event logs');
    // An EVTX XML export is events, whatever its name (.xml used to land in Files, its event times taken as file times).
    expect(laneOfFormat('evtx-xml')).toBe('Event logs');
    expect(laneOfFormat('file')).toBe('Files');
    expect(laneOfFormat('rps-cmdlet')).toBe('Other logs');
    expect(laneOfFormat('toString')).toBe('Other logs');
  });
});

describe('correlate', () => {
  const result = correlateHost(host('mail01', compromisedFindings(), FULL_COVERAGE));
  const byFinding = (id: string) => result.incidents.find((i) => i.findings.includes(id));

  it('joins the chain across IP, canary, shell path and time into one incident', () => {
    const chain = byFinding('F1');
    expect(chain).toBeDefined();
    expect([...(chain?.findings ?? [])].sort()).toEqual(['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7']);
    expect(chain?.stage).toBe('post-exploitation');
    expect(chain?.client_ips).toEqual(['130.255.189.21', '139.162.202.236']);
    expect(chain?.keys.ecp_canaries).toEqual(['Cnry8BeqxxxWYd1L8.']);
    expect(chain?.keys.files).toEqual(['auth/shell.aspx', 'root/lsass.dmp']);
    expect(chain?.first).toBe('2021-03-03T08:12:01.000Z');
    expect(chain?.last).toBe('2021-03-05T10:00:03.000Z');
    expect(chain?.cves).toEqual(['CVE-2021-26855', 'CVE-2021-26858', 'CVE-2021-27065']);
    expect(chain?.sources).toEqual(['ECP', 'Event logs', 'Files', 'HttpProxy', 'IIS', 'OABGenerator']);
    // Sentences a manager can read: who, when, each step with its time, the rule ids in brackets.
    expect(chain?.narrative).toMatch(
      /^From 2 addresses \(130\.255\.189\.21, 139\.162\.202\.236\) on 3 March 2021 08:12 UTC the attacker exploited it successfully \(PL-02, PL-22, PL-23, PL-30\), placed a web shell on disk \(WS-20\), used a web shell on 5 March 10:00 \(WS-40\), and ran commands on the server at 10:00 \(PX-06\)\. /,
    );
    expect(chain?.narrative).toContain('Web shell Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx was on disk and answered');
    expect(chain?.narrative).toContain('Furthest stage: post-exploitation.');
  });

  it('folds every scan-only client into one scanning incident, and keeps the failed attempt apart', () => {
    const scans = byFinding('F8');
    expect(scans).toBe(byFinding('F9'));
    expect(scans?.stage).toBe('scanned');
    expect(scans?.client_ips).toEqual(['45.77.1.1', '45.77.2.2']);
    expect(scans?.narrative).toContain('No sign that these probes got in.');
    expect(byFinding('F10')?.stage).toBe('attempted');
    expect(result.incidents).toHaveLength(3);
  });

  it('numbers incidents by first activity and reports the furthest stage', () => {
    expect(result.incidents.map((i) => i.id)).toEqual(['I1', 'I2', 'I3']);
    expect(result.incidents.map((i) => i.findings[0])).toEqual(['F8', 'F1', 'F10']);
    expect(result.stage).toBe('post-exploitation');
  });

  it('does not join findings through a loopback address, nor attach keyless findings to a scanner', () => {
    const r = correlateHost(
      host('h', [
        finding({ id: 'A', rule: 'PL-03', kind: 'attempt', time: '2021-03-01T00:00:00Z', client_ip: '127.0.0.1' }),
        finding({ id: 'B', rule: 'PL-03', kind: 'attempt', time: '2021-03-09T00:00:00Z', client_ip: '127.0.0.1' }),
        finding({ id: 'C', rule: 'PX-R1', kind: 'scan', time: '2021-03-05T00:00:00Z', client_ip: '45.1.1.1' }),
        finding({ id: 'D', rule: 'WS-20', kind: 'webshell', severity: 'critical', time: '2021-03-05T00:01:00Z', evidence: { file: 'C:\\inetpub\\wwwroot\\aspnet_client\\a.aspx' } }),
      ], []),
    );
    expect(r.incidents).toHaveLength(4);
    expect(r.incidents.find((i) => i.findings.includes('D'))?.stage).toBe('persistence');
  });

  it('excludes exposure findings and gives a host without attacks stage none', () => {
    const r = correlateHost(host('h', [finding({ id: 'E', rule: 'BUILD', kind: 'exposure', severity: 'high' })], []));
    expect(r).toEqual({ incidents: [], timeline: [], stage: 'none' });
  });

  it('a low indicator alone (WS-07 "not compared") is no incident and dates no attack activity; joined to an attack it is part of it (review11 R2)', () => {
    const page = 'FrontEnd/HttpProxy/owa/auth/logon.aspx';
    const notCompared = finding({ id: 'N', rule: 'WS-07', kind: 'webshell', severity: 'low', time: '2021-03-20T10:38:00Z', source: { path: page }, lane: 'Files', evidence: { file: page } });
    const alone = host('h', [notCompared], []);
    expect(alone.incidents).toEqual([]);
    expect(attackSpan(alone)).toEqual({ first: null, last: null });
    expect(alone.timeline.map((t) => t.incident)).toEqual([null]);
    // The same page requested by an attacker with 200: one incident holding both, its activity from the log only.
    const used = finding({ id: 'U', rule: 'WS-40', kind: 'webshell', severity: 'high', time: '2021-08-22T07:01:00Z', client_ip: '194.87.207.117', lane: 'IIS', evidence: { url: '/owa/auth/logon.aspx', status: '200' } });
    const joined = host('h', [notCompared, used], []);
    expect(joined.incidents.map((i) => i.findings.sort())).toEqual([['N', 'U']]);
    expect(attackSpan(joined)).toEqual({ first: '2021-08-22T07:01:00Z', last: '2021-08-22T07:01:00Z' });
  });

  it('an incident of indicators only says what matched, not what "the attacker" did', () => {
    const ioc = finding({ id: 'I', rule: 'IOC-HASH', kind: 'ioc', severity: 'medium', time: '2021-03-05T00:00:00Z', lane: 'Files' });
    const [inc] = correlateHost(host('h', [ioc], [])).incidents;
    expect(inc.stage).toBe('none');
    expect(inc.narrative).toMatch(/^With no client address in the logs on 5 March 2021 00:00 UTC the evidence matched known attacker indicators \(IOC-HASH\)\./);
    expect(inc.narrative).not.toContain('the attacker');
  });

  it('escalates an incident to persistence when a weak shell finding is requested with 200', () => {
    const r = correlateHost(
      host('h', [
        finding({ id: 'W', rule: 'WS-03', kind: 'webshell', severity: 'medium', time: null, source: { path: 'FrontEnd/HttpProxy/owa/auth/abc.aspx' }, evidence: { file: 'FrontEnd/HttpProxy/owa/auth/abc.aspx' } }),
        finding({ id: 'R', rule: 'WS-40', kind: 'attempt', severity: 'low', time: '2021-03-05T00:00:00Z', client_ip: '8.8.8.8', evidence: { url: '/owa/auth/abc.aspx', status: '200' } }),
      ], []),
    );
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0].stage).toBe('persistence');
  });

  it('collapses bursts into timeline rows', () => {
    const burst = [0, 10, 50, 200].map((min, i) =>
      finding({ id: `T${i}`, rule: 'PX-R1', kind: 'scan', severity: 'low', time: new Date(Date.parse('2021-03-07T00:00:00Z') + min * 60_000).toISOString(), client_ip: '45.2.2.2' }),
    );
    const r = correlateHost(host('h', [...burst, ...scannedFindings()], []));
    const rows = r.timeline.filter((t) => t.rule === 'PX-R1');
    expect(rows.map((t) => [t.time, t.last, t.count])).toEqual([
      ['2021-03-07T00:00:00.000Z', '2021-03-07T00:50:00.000Z', 3],
      ['2021-03-07T03:20:00.000Z', '2021-03-07T03:20:00.000Z', 1],
    ]);
    expect(rows[0].findings).toEqual(['T0', 'T1', 'T2']);
    expect(r.timeline.find((t) => t.rule === 'PL-04')?.severity).toBe('critical');
    expect(new Set(r.timeline.map((t) => t.incident))).toEqual(new Set(['I1']));
  });
});
