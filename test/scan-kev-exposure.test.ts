// review10 R12: a server whose build `exhunt build` and `exhunt check` call open to a KEV CVE (here CVE-2026-42897,
// OWA stored XSS, KEV 2026-05-15, fixed by Jun26SU) must not come out of `scan` as "not vulnerable", exit 0.
// Shapes: an Exchange SE RTM Feb26SU server (15.2.2562.37, data/builds/updates.csv) announcing its build in an HttpProxy
// log header (#Version, exchange-evidence.md §3.1) and one day of ordinary front-end IIS traffic (W3C, IIS defaults).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-kev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(rel: string, lines: string[]): void {
  const p = join(dir, 'host', rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, lines.join('\r\n') + '\r\n');
}

const FIELDS = 'DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion';
put('C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2026111510-1.LOG', [
  '#Software: Microsoft Exchange Server',
  '#Version: 15.02.2562.037',
  '#Log-type: HttpProxy Logs',
  '#Date: 2026-11-15T10:00:00.000Z',
  `#Fields: ${FIELDS}`,
  '2026-11-15T10:00:00.000Z,1d3c,15,2,2562,37,,Owa,mail.contoso.se,/owa/service.svc,,BEVersion,true,CONTOSO\\anna.berg,,,,85.224.13.7,MAIL20,200,200,,POST,,MAIL20.contoso.se,15.02.2562.037',
]);
put('C/inetpub/logs/LogFiles/W3SVC1/u_ex261115.log', [
  '#Software: Microsoft Internet Information Services 10.0',
  '#Version: 1.0',
  '#Date: 2026-11-15 00:00:00',
  '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
  '2026-11-15 08:00:01 10.1.2.7 GET /autodiscover/autodiscover.json/v1.0/anna.berg@contoso.se Protocol=ActiveSync&RedirectCount=1 443 - 85.224.13.7 Outlook-iOS/709.2226530.prod.iphone+(4.2341.0) - 200 0 0 15',
  '2026-11-15 08:00:02 10.1.2.7 POST /owa/service.svc action=GetItem&app=Mail 443 CONTOSO\\anna.berg 85.224.13.7 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 31',
  '2026-11-15 08:00:03 10.1.2.7 GET /owa/healthcheck.htm - 443 - 10.1.2.2 - - 200 0 0 1',
]);

describe('scan: a build open to a KEV CVE outside the three families (review10 R12)', () => {
  const json = join(dir, 'out.json');
  const r = exhunt(['scan', join(dir, 'host'), '--since', '2026-11-15', '--json', json]);
  const host = (JSON.parse(readFileSync(json, 'utf8')) as ScanReport).hosts[0];
  const exp = host.findings.find((f) => f.rule === 'EXP-01')!;

  it('exits 3 (exposed), like `exhunt check`, with EXP-01 naming CVE-2026-42897', () => {
    expect(r.code, r.stderr).toBe(3);
    expect(host.verdict).toBe('clean');
    expect(exp).toMatchObject({ severity: 'medium', cves: ['CVE-2026-42897'] });
    expect(exp.summary).toContain('CVE-2026-42897 (KEV 2026-05-15; fixed by Jun26SU');
  });

  it('names the CVE in the reasons (with --since) and on the exposure line', () => {
    expect(host.reasons.some((x) => x.startsWith('CVE-2026-42897 (OWA stored XSS): exposed from 2026-05-14'))).toBe(true);
    expect(r.stdout).toContain('exploited in the wild (CISA KEV), open on the current build: CVE-2026-42897');
  });

  it('the update step names the SU, why, and the interim mitigation while the CSP rule is not seen in place', () => {
    expect(r.stdout).toMatch(/1\. Install the security update for build 15\.2\.2562\.37 \(Exchange SE RTM\): Nov26SU\n\s+exhunt mitigate --owa-csp > mitigate\.ps1/);
    expect(r.stdout).toContain('CVE-2026-42897: vulnerable (exploited in the wild, CISA KEV)');
  });
});
