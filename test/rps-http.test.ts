// Rps_Http logs (CmdletInfra\Powershell-Proxy\Http): the back end's log of every remote PowerShell request, where
// OWASSRF and ProxyNotShell end. Columns: the 38 of CrowdStrike's Rps_Http-IOC.ps1 (CrowdStrike/OWASSRF), in that
// order; the attack row in the shape signature-base's EXPL_LOG_ProxyNotShell_PowerShell_Proxy_Log_Dec22_1 matches
// (`,/Powershell`, `,Kerberos,true,`, `,200,0,,,,`, GenericInfo `;OnEndRequest.End.ContentType=application/soap+xml
// charset UTF-8;S:ServiceCommonMetadata.HttpMethod=POST;`), ClientInfo the OWASSRF PoC's user agent (SigmaHQ 92d78c63)
// and ClientIpAddress the chain CrowdStrike's script splits on spaces. Exchange's own traffic (ClientInfo `Exchange
// BackEnd Probes`, `Microsoft WinRM Client`, empty) stays clean.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import { classifyExchangeLog } from '../src/parsers/exchange.js';
import { nextSteps } from '../src/report/next-steps.js';
import type { HostResult } from '../src/model.js';

const FIELDS =
  'DateTime,StartTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,UrlHost,UrlStem,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,ManagedOrganization,ClientIpAddress,ServerHostName,FrontEndServer,HttpStatus,SubStatus,ErrorCode,Action,CommandId,CommandName,SessionId,ShellId,FailFast,ContributeToFailFast,RequestBytes,ClientInfo,CPU,Memory,ActivityContextLifeTime,TotalTime,UrlQuery,GenericLatency,GenericInfo,GenericErrors'.split(',');
const VERSION = '15.01.2507.013'; // Exchange 2016 CU23 Oct22SU: open to OWASSRF until Nov22SU
const POC_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/105.0.5195.54 Safari/537.36';
const SOAP_POST = 'OnEndRequest.End.ContentType=application/soap+xml charset UTF-8;S:ServiceCommonMetadata.HttpMethod=POST;';

type Row = Record<string, string>;

function log(rows: Row[], date: string): string {
  const base: Row = { MajorVersion: '15', MinorVersion: '1', BuildVersion: '2507', RevisionVersion: '13', UrlHost: 'mail07.contoso.se', UrlStem: '/powershell', ServerHostName: 'MAIL07', FrontEndServer: 'MAIL07.contoso.se', SubStatus: '0' };
  const line = (r: Row, i: number) => FIELDS.map((f) => ({ ...base, StartTime: r.DateTime, RequestId: `6c1f2a3b-${String(i).padStart(4, '0')}-4d5e-8f90-a1b2c3d4e5f6`, ...r })[f] ?? '').join(',');
  return ['#Software: Microsoft Exchange Server', `#Version: ${VERSION}`, '#Log-type: Rps Http Logs', `#Date: ${date}`, `#Fields: ${FIELDS.join(',')}`, ...rows.map(line)].join('\r\n') + '\r\n';
}

const at = (iso: string, k: number) => new Date(Date.parse(iso) + k * 60_000).toISOString();

/** Exchange's own: ActiveMonitor's back-end probes, an admin's Management Shell, a keep-alive with no ClientInfo. */
function benign(t0: string): Row[] {
  return Array.from({ length: 5 }, (_, k): Row[] => [
    { DateTime: at(t0, 3 * k), AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\HealthMailbox8a3b3c1f2d4e4f5a9b7c6d5e4f3a2b1c', ClientIpAddress: '::1', HttpStatus: '200', ClientInfo: 'Exchange BackEnd Probes', CommandName: 'Get-ExchangeServer', UrlQuery: '?clientApplication=ActiveMonitor;PSVersion=5.1.14393.5501', GenericInfo: `;${SOAP_POST}` },
    { DateTime: at(t0, 3 * k + 1), AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\exadmin', ClientIpAddress: '10.1.2.7', HttpStatus: '200', ClientInfo: 'Microsoft WinRM Client', CommandName: 'Get-Mailbox', UrlQuery: '?serializationLevel=Full;ExchClientVer=15.1.2507.13;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.14393.5501', GenericInfo: `;${SOAP_POST}` },
    { DateTime: at(t0, 3 * k + 2), AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\exadmin', ClientIpAddress: '10.1.2.7', HttpStatus: '200', ClientInfo: '', UrlQuery: '?serializationLevel=Full;clientApplication=ManagementShell', GenericInfo: `;${SOAP_POST}` },
  ]).flat();
}

/** OWASSRF: the PoC's requests proxied from /owa/<mailbox>@…/powershell, as a low-privileged user, from the internet through the front end. */
function owassrf(t0: string): Row[] {
  const row = (k: number, status: string): Row => ({
    DateTime: at(t0, k), AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\jonas.lind', ClientIpAddress: '45.76.141.84 10.1.2.5', HttpStatus: status, ClientInfo: POC_UA,
    CommandName: status === '200' ? 'Get-Mailbox' : '', UrlQuery: '', GenericInfo: `;${SOAP_POST}`,
  });
  return [row(0, '500'), row(1, '200'), row(2, '200')];
}

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A host holding only Rps_Http logs, one per hour given (`yyyy-mm-ddThh`). */
async function scanRps(hours: Record<string, Row[]>): Promise<HostResult> {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-rps-'));
  roots.push(root);
  const dir = join(root, 'Logging', 'CmdletInfra', 'Powershell-Proxy', 'Http');
  mkdirSync(dir, { recursive: true });
  for (const [hour, rows] of Object.entries(hours)) writeFileSync(join(dir, `Rps_Http_${hour.replace(/\D/g, '')}-1.LOG`), log(rows, `${hour}:00:00.000Z`));
  const report = await scan({ paths: [root], jobs: 1, command: [], options: {} });
  return report.hosts[0];
}

describe('Rps_Http logs (OW-04)', () => {
  it('classifies Rps_Http by its #Log-type, by its columns without directives, and by its file name', () => {
    const text = log(benign('2022-12-12T16:00:00.000Z'), '2022-12-12T16:00:00.000Z');
    expect(classifyExchangeLog(text, 'x.log')).toBe('rps-http');
    expect(classifyExchangeLog(text.split('\r\n').slice(4).join('\r\n').replace('#Fields: ', ''), 'x.csv')).toBe('rps-http');
    expect(classifyExchangeLog('\u0000\u0000garbled', 'Logging/CmdletInfra/Powershell-Proxy/Http/Rps_Http_2022121216-1.LOG')).toBe('rps-http');
  });

  it('OWASSRF requests proxied for the PoC user agent → OW-04 (200) and OW-04 attempt, compromised; Exchange\'s own rows are not findings', async () => {
    const day = '2022-12-12';
    const h = await scanRps({ [`${day}T16`]: [...benign(`${day}T16:00:00.000Z`), ...owassrf(`${day}T16:20:00.000Z`)] });
    const ow = h.findings.filter((f) => f.rule === 'OW-04');
    expect(ow.map((f) => `${f.severity} ${f.kind} ${f.evidence.status}`)).toEqual(['medium attempt 500', 'high exploitation 200', 'high exploitation 200']);
    expect(ow[1].evidence).toMatchObject({ client_info: POC_UA, user: 'CONTOSO\\jonas.lind', client_ips: '45.76.141.84 10.1.2.5', front_end: 'MAIL07.contoso.se', command: 'Get-Mailbox' });
    expect(ow[1].client_ip).toBe('45.76.141.84');
    expect(ow[1].summary).toContain('45.76.141.84 -> 10.1.2.5 -> MAIL07.contoso.se -> MAIL07');
    expect(h.findings.filter((f) => f.rule === 'OW-04').length).toBe(3);
    expect(h.verdict).toBe('compromised');
    expect(h.coverage.find((c) => c.format === 'rps-http')).toMatchObject({ source: 'CmdletInfra Rps_Http', records: 18 });
    // The account the exploit ran as is the first to reset (review11 R9: it was left out when Rps_Http showed it).
    const reset = nextSteps(h, '2022-11-01T00:00:00.000Z').find((s) => s.id === 'reset-credentials')!;
    expect(reset.title).toContain('first the accounts the exploit ran as');
    expect(reset.items[0]).toBe('CONTOSO\\jonas.lind (OW-04, first 2022-12-12 16:21 UTC)');
  });

  it('ProxyShell reaching the back-end PowerShell (X-Rps-CAT, Email=autodiscover/autodiscover.json in UrlQuery) → PS-02 as IIS grades it, not OW-04', async () => {
    // The back end's view of the request HttpProxy\\PowerShell logs (exchange-evidence.md §3.1), from the ProxyShell PoC's PSRP client.
    const day = '2021-08-21';
    const row = (k: number, status: string): Row => ({
      DateTime: at(`${day}T02:14:00.000Z`, k), AuthenticationType: 'Kerberos', IsAuthenticated: 'true', AuthenticatedUser: 'CONTOSO\\administrator', ClientIpAddress: '157.245.58.14 10.1.2.5', HttpStatus: status, ClientInfo: 'Python PSRP Client',
      UrlQuery: '?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBBCEtlcmJlcm9zTBdhZG1pbmlzdHJhdG9yQGNvbnRvc28uc2U%3D&Email=autodiscover/autodiscover.json%3F@evil.corp', GenericInfo: `;${SOAP_POST}`,
    });
    const h = await scanRps({ [`${day}T02`]: [...benign(`${day}T02:00:00.000Z`), row(20, '401'), row(21, '200'), row(22, '200')] });
    expect(h.findings.filter((f) => /^(PS|PNS|OW)-/.test(f.rule)).map((f) => `${f.rule} ${f.severity} ${f.kind}`)).toEqual(['PS-01 medium attempt', 'PS-02 critical exploitation', 'PS-02 critical exploitation']);
    expect(h.findings.find((f) => f.rule === 'PS-02')!).toMatchObject({ client_ip: '157.245.58.14', evidence: { family: 'ProxyShell', user: 'CONTOSO\\administrator' } });
    expect(h.verdict).toBe('compromised');
  });

  it('a clean Rps_Http log: no finding, and it covers the OWASSRF and ProxyNotShell windows (not ProxyLogon\'s or ProxyShell\'s)', async () => {
    const h = await scanRps({ '2022-11-01T08': benign('2022-11-01T08:00:00.000Z'), '2022-12-12T16': benign('2022-12-12T16:00:00.000Z') });
    expect(h.findings.filter((f) => f.kind !== 'exposure').map((f) => f.rule)).toEqual([]);
    const w = (fam: string) => h.exposure_windows!.find((x) => x.family === fam)!;
    expect(w('owassrf')).toMatchObject({ covered: true, logs: { source: 'CmdletInfra Rps_Http' } });
    expect(w('proxynotshell').logs?.source).toBe('CmdletInfra Rps_Http');
    for (const fam of ['proxylogon', 'proxyshell']) expect(w(fam).logs, fam).toBeNull();
    expect(h.verdict).not.toBe('clean'); // ProxyLogon / ProxyShell windows: the web logs that would show them are absent
  });
});
