import { describe, expect, it } from 'vitest';
import { nextSteps } from '../src/report/next-steps.js';
import { compromisedFindings, cov, finding, FULL_COVERAGE, host, scannedFindings, SINCE } from './support/report-fixtures.js';
import type { Finding } from '../src/model.js';

const ids = (h: Parameters<typeof nextSteps>[0]) => nextSteps(h, SINCE).map((s) => s.id);

describe('nextSteps', () => {
  it('compromised: preserve, isolate, remove the listed shells, reset credentials after the lsass dump, update, hunt, report', () => {
    const h = host('mail01', compromisedFindings(), FULL_COVERAGE, 'compromised');
    expect(ids(h)).toEqual(['preserve', 'isolate', 'remove-shells', 'reset-credentials', 'update', 'hunt', 'report']);
    const steps = nextSteps(h, SINCE);
    // One line per location: the Windows path of the OAB write wins over the evidence path of the same file.
    expect(steps[2].items).toEqual(['C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\shell.aspx']);
    // The evidence copy of the same file is kept for hover/details, not shown as a second place to delete.
    expect(steps[2].evidencePaths).toEqual({ 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\shell.aspx': 'Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx' });
    expect(steps[0].commands).toEqual(['exhunt collect C:\\ --case E:\\exhunt-case.zip --host mail01']);
    expect(steps[3].title).toBe('Reset credentials: LSASS memory was dumped');
    expect(steps[3].items).toEqual(['C:\\root\\lsass.dmp']);
    expect(steps[4].title).toBe('Install the latest Cumulative Update and Security Update');
  });

  it('uses the build assessment when an exposure finding carries the install advice', () => {
    const exposure = finding({ id: 'E', rule: 'EXP-01', kind: 'exposure', summary: 'Vulnerable build 15.1.2176.2', evidence: { build: '15.1.2176.2', current_build: '15.1.2176.2', product: 'Exchange 2016', cu: 'CU19', install: 'install Mar21SU (KB5000871, 15.1.2176.9) or a later SU for CU19', current_families: { proxylogon: 'vulnerable', proxyshell: 'vulnerable' } } });
    const step = nextSteps(host('h', [exposure], FULL_COVERAGE, 'clean'), SINCE).find((s) => s.id === 'update');
    // The KB in the title, the interim mitigation for the open families as an exhunt command (ProxyShell has none).
    expect(step?.title).toBe('Install the security update for build 15.1.2176.2 (Exchange 2016 CU19): KB5000871');
    expect(step?.detail).toMatch(/^install Mar21SU \(KB5000871, 15\.1\.2176\.9\)/);
    expect(step?.items).toEqual(['proxylogon: vulnerable', 'proxyshell: vulnerable']);
    expect(step?.commands).toEqual(['exhunt mitigate --proxylogon > mitigate.ps1']);
    const fixed = { ...exposure, evidence: { ...exposure.evidence, install: null } };
    expect(nextSteps(host('h', [fixed], FULL_COVERAGE, 'clean'), SINCE)[0].title).toBe('Keep build 15.1.2176.2 (Exchange 2016 CU19) up to date');
  });

  const exp01 = (evidence: Record<string, unknown>) =>
    finding({ id: 'E', rule: 'EXP-01', kind: 'exposure', severity: 'medium', evidence: { build: '15.1.2507.13', current_build: '15.1.2507.13', product: 'Exchange 2016', cu: 'CU23', ...evidence } as Finding['evidence'] });

  it('ProxyNotShell open: says the URL Rewrite rule does not stop OWASSRF and what does until the update (review10 R2)', () => {
    const e = exp01({ install: 'Install Oct26SU for Exchange 2016 CU23', current_families: { proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'vulnerable' } });
    const step = nextSteps(host('h', [e], FULL_COVERAGE, 'clean'), SINCE).find((s) => s.id === 'update')!;
    expect(step.commands).toEqual(['exhunt mitigate --proxynotshell > mitigate.ps1']);
    expect(step.detail).not.toContain('blocks the known exploit paths');
    expect(step.detail).toContain('stops the Autodiscover path only, not OWASSRF (/owa/<mailbox>/powershell, CVE-2022-41080)');
    expect(step.detail).toContain('Set-User <user> -RemotePowerShellEnabled $false');
    const fixed = exp01({ install: 'Install Oct26SU for Exchange 2016 CU23', current_families: { proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'fixed' } });
    expect(nextSteps(host('h', [fixed], FULL_COVERAGE, 'clean'), SINCE).find((s) => s.id === 'update')!.detail).not.toContain('OWASSRF');
  });

  it('CVE-2026-42897 open: the update step says why and adds --owa-csp, unless the CSP rule is seen applied (review10 R12)', () => {
    const e = exp01({ install: 'Install Oct26SU for Exchange 2016 CU23', current_families: { proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'fixed' }, kev_open: ['CVE-2026-42897'] });
    const step = nextSteps(host('h', [e], FULL_COVERAGE, 'clean'), SINCE).find((s) => s.id === 'update')!;
    expect(step.commands).toEqual(['exhunt mitigate --owa-csp > mitigate.ps1']);
    expect(step.items).toContain('CVE-2026-42897: vulnerable (exploited in the wild, CISA KEV)');
    expect(step.detail).toContain('It closes CVE-2026-42897, exploited in the wild (CISA KEV).');
    const csp = finding({ id: 'M', rule: 'MIT-OWA-CSP', kind: 'exposure', severity: 'info', evidence: { state: 'applied' } });
    expect(nextSteps(host('h', [csp, e], FULL_COVERAGE, 'clean'), SINCE).find((s) => s.id === 'update')!.commands).toBeUndefined();
  });

  it('a patched host that was only probed is not told to restrict access until patched (review10 R10)', () => {
    const patched = exp01({ install: null, current_families: { proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'fixed' } });
    const f = [...scannedFindings(), finding({ id: 'A', rule: 'PL-03', kind: 'attempt', client_ip: '67.205.176.9' })];
    expect(ids(host('h', [...f, patched], FULL_COVERAGE, 'attempted'))).not.toContain('restrict');
    expect(ids(host('h', [patched], [], 'insufficient-evidence'))).not.toContain('restrict');
    const open = exp01({ install: 'Install Oct26SU for Exchange 2016 CU23', current_families: { proxylogon: 'fixed', proxyshell: 'fixed', proxynotshell: 'vulnerable' } });
    expect(ids(host('h', [...f, open], FULL_COVERAGE, 'attempted'))).toContain('restrict');
    // No build assessed: the update is unknown, so the stop-gap stays.
    expect(ids(host('h', f, FULL_COVERAGE, 'attempted'))).toContain('restrict');
  });

  it('names the accounts a ProxyNotShell / OWASSRF exploit ran as first in the credentials step (review10 R8)', () => {
    const ow = (id: string, time: string, user: string) => finding({ id, rule: 'OW-02', kind: 'exploitation', severity: 'critical', stage: 'exploited', time, evidence: { user } });
    const probe = finding({ id: 'P', rule: 'OW-02', kind: 'attempt', severity: 'high', stage: 'attempted', time: '2022-12-12T08:00:00Z', evidence: { user: 'CONTOSO\\guessed' } });
    const h = host('h', [...compromisedFindings(), ow('O1', '2022-12-12T08:25:00Z', 'CONTOSO\\jonas.lind'), ow('O2', '2022-12-12T08:21:00Z', 'contoso\\Jonas.Lind'), probe], FULL_COVERAGE, 'compromised');
    const step = nextSteps(h, SINCE).find((s) => s.id === 'reset-credentials')!;
    expect(step.title).toBe('Reset credentials: LSASS memory was dumped; first the accounts the exploit ran as');
    expect(step.items[0]).toBe('CONTOSO\\jonas.lind (OW-02, first 2022-12-12 08:21 UTC)');
    expect(step.items.join('\n')).not.toContain('guessed');
    expect(step.detail).toMatch(/^ProxyNotShell and OWASSRF need a mailbox password/);
  });

  it('configuration controls that are off become one step right after the update, with each fix', () => {
    const ep = finding({ id: 'C1', rule: 'EXP-EP', kind: 'exposure', severity: 'high', title: 'Extended Protection: off', cves: ['CVE-2024-21410'], evidence: { state: 'off', fix: 'Enable Extended Protection with ExchangeExtendedProtectionManagement.ps1' } });
    const sdsOn = finding({ id: 'C2', rule: 'EXP-SDS', kind: 'exposure', severity: 'info', title: 'PowerShell serialization payload signing: on', evidence: { state: 'on', fix: null } });
    const h = host('h', [ep, sdsOn], FULL_COVERAGE, 'clean');
    expect(ids(h).slice(0, 2)).toEqual(['update', 'fix-config']);
    expect(nextSteps(h, SINCE)[1].items).toEqual(['Extended Protection: off (CVE-2024-21410): Enable Extended Protection with ExchangeExtendedProtectionManagement.ps1']);
    expect(ids(host('h', [sdsOn], FULL_COVERAGE, 'clean'))).not.toContain('fix-config');
  });

  it('web shells seen only in the logs are listed at the place IIS serves them from (review9 F10)', () => {
    const used = (id: string, url: string, severity: 'critical' | 'low' = 'critical') => finding({ id, rule: 'WS-40', kind: 'webshell', severity, evidence: { url, status: 200 } });
    const onDisk = finding({ id: 'D', rule: 'WS-21', kind: 'webshell', severity: 'high', evidence: { file: 'C/inetpub/wwwroot/aspnet_client/system_web/x.aspx' } });
    const h = host('h', [used('A', '/aspnet_client/xfrdhsw.aspx?exec_code=Response.Write(1)'), used('B', '/owa/auth/Outlook%5aH.aspx'), used('C', '/aspnet_client/system_web/x.aspx'), used('L', '/owa/auth/other.aspx', 'low'), onDisk], FULL_COVERAGE, 'compromised');
    expect(ids(h).slice(0, 4)).toEqual(['preserve', 'isolate', 'find-shells', 'remove-shells']);
    expect(nextSteps(h, SINCE)[2].items).toEqual(['%ExchangeInstallPath%FrontEnd\\HttpProxy\\owa\\auth\\OutlookZH.aspx', 'C:\\inetpub\\wwwroot\\aspnet_client\\xfrdhsw.aspx']);
  });

  it('web shells found only in a case folder are listed by their server path, the case path kept beside them', () => {
    const shell = finding({ id: 'W', rule: 'WS-21', kind: 'webshell', severity: 'high', evidence: { file: 'C/inetpub/wwwroot/aspnet_client/system_web/x.aspx' } });
    const step = nextSteps(host('h', [shell], FULL_COVERAGE, 'compromised'), SINCE).find((s) => s.id === 'remove-shells');
    expect(step?.items).toEqual(['C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx']);
    expect(step?.evidencePaths).toEqual({ 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx': 'C/inetpub/wwwroot/aspnet_client/system_web/x.aspx' });
    // A host name that is not a plain name never reaches a command line.
    expect(nextSteps(host('a;calc.exe', [shell], FULL_COVERAGE, 'compromised'), SINCE)[0].commands).toEqual(['exhunt collect C:\\ --case E:\\exhunt-case.zip']);
  });

  it('compromised without a dump still asks for credential resets, but says why differently', () => {
    const h = host('h', compromisedFindings().filter((f) => f.id !== 'F7'), FULL_COVERAGE, 'compromised');
    expect(nextSteps(h, SINCE).find((s) => s.id === 'reset-credentials')?.title).toBe('Reset credentials used on the server');
  });

  it('attempted: update first, then restrict; attackers listed but not scanners; short coverage asks for logs', () => {
    // An Exchange health probe (info scan, stage none) is no attacker either: its address is the server's own.
    const probe = finding({ id: 'P', rule: 'PS-06', kind: 'scan', severity: 'info', client_ip: '10.20.0.5' });
    const f = [...scannedFindings(), probe, finding({ id: 'A', rule: 'PL-03', kind: 'attempt', client_ip: '67.205.176.9' })];
    const h = host('h', f, [cov('HttpProxy/Ecp', 'httpproxy', '2021-03-01T00:00:00Z', '2021-03-10T00:00:00Z')], 'attempted');
    expect(ids(h)).toEqual(['update', 'restrict', 'collect-logs', 'block', 'keep-logs']);
    expect(nextSteps(h, SINCE).find((s) => s.id === 'block')?.items).toEqual(['67.205.176.9']);
  });

  it('attempted: internal addresses are never advised for blocking, but listed apart with the reason', () => {
    // PS-06 on the back end as another Exchange server's computer account (the front end that proxied the request),
    // an attempt seen through a load balancer's private address, and one from loopback; the public attacker alone
    // is to block. A public address stays blockable even on the back end (a balancer's X-Forwarded-For names the
    // outside client) or as a computer account (any domain user can create one).
    const backEnd = 'inetpub/logs/LogFiles/W3SVC2/u_ex261120.log';
    const f = [
      finding({ id: 'B', rule: 'PS-06', kind: 'attempt', severity: 'medium', client_ip: '10.20.0.12', source: { path: backEnd, line: 7 }, evidence: { user: 'CONTOSO\\MAIL02$' } }),
      finding({ id: 'S', rule: 'PS-06', kind: 'attempt', severity: 'medium', client_ip: '203.0.113.80', source: { path: backEnd, line: 9 } }),
      finding({ id: 'L', rule: 'PL-03', kind: 'attempt', client_ip: '192.168.10.4' }),
      finding({ id: 'M', rule: 'PL-03', kind: 'attempt', client_ip: '::1' }),
      finding({ id: 'A', rule: 'PL-03', kind: 'attempt', client_ip: '67.205.176.9' }),
    ];
    const steps = nextSteps(host('h', f, FULL_COVERAGE, 'attempted'), SINCE);
    expect(steps.find((s) => s.id === 'block')?.items).toEqual(['203.0.113.80', '67.205.176.9']);
    const internal = steps.find((s) => s.id === 'internal-sources');
    expect(internal?.items).toEqual(['10.20.0.12', '192.168.10.4', '::1']);
    expect(internal?.detail).toMatch(/Do not block it blindly/);
    // Only internal addresses: no block step at all.
    expect(nextSteps(host('h', f.slice(0, 1), FULL_COVERAGE, 'attempted'), SINCE).map((s) => s.id)).not.toContain('block');
  });

  it('attempted: a public client is to block whatever its account, and behind a balancer on the back end too', () => {
    // Any domain user can create computer accounts (ms-DS-MachineAccountQuota 10): a `$` name from the internet is
    // an attacker. On W3SVC2 an address a balancer's X-Forwarded-For named (proxy_ip) is the outside client.
    const f = [
      finding({ id: 'P', rule: 'PNS-01', kind: 'attempt', client_ip: '198.51.100.7', evidence: { user: 'CONTOSO\\YOURPC01$' } }),
      finding({ id: 'X', rule: 'PS-06', kind: 'attempt', severity: 'medium', client_ip: '203.0.113.81', source: { path: 'inetpub/logs/LogFiles/W3SVC2/u_ex261120.log', line: 3 }, evidence: { proxy_ip: '10.0.0.5' } }),
      finding({ id: 'Q', rule: 'PL-03', kind: 'attempt', client_ip: '::ffff:172.16.4.2' }),
    ];
    const steps = nextSteps(host('h', f, FULL_COVERAGE, 'attempted'), SINCE);
    expect(steps.find((s) => s.id === 'block')?.items).toEqual(['198.51.100.7', '203.0.113.81']);
    expect(steps.find((s) => s.id === 'internal-sources')?.items).toEqual(['172.16.4.2']);
  });

  it('compromised: a web shell Exchange does not ship is removed whatever its grade; a differing shipped page is not', () => {
    const EXW = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa';
    const evil = finding({ id: 'N', rule: 'WS-07', kind: 'webshell', severity: 'medium', evidence: { file: `${EXW}\\evil.aspx` } });
    const other = finding({ id: 'O', rule: 'WS-07', kind: 'webshell', severity: 'low', evidence: { file: `${EXW}\\auth\\logon.aspx` } });
    const h = host('h', [...compromisedFindings(), evil, other], FULL_COVERAGE, 'compromised');
    const steps = nextSteps(h, SINCE);
    expect(steps.find((s) => s.id === 'remove-shells')?.items).toContain(`${EXW}\\evil.aspx`);
    expect(steps.flatMap((s) => s.items)).not.toContain(`${EXW}\\auth\\logon.aspx`);
  });

  it('only the sign-in stealer rules ask for OWA password resets, not a user rule titled like one', () => {
    const sigma = finding({ id: 'U', rule: 'SIGMA-browser-stealer', kind: 'post-exploitation', severity: 'high', title: 'Browser credential stealer executed' });
    const h = host('h', [...compromisedFindings().filter((f) => f.id !== 'F7'), sigma], FULL_COVERAGE, 'compromised');
    expect(nextSteps(h, SINCE).find((s) => s.id === 'reset-credentials')?.title).toBe('Reset credentials used on the server');
  });

  it('insufficient-evidence lists what is missing; clean keeps it patched', () => {
    const steps = nextSteps(host('h', [], [], 'insufficient-evidence'), SINCE);
    expect(steps[0]).toMatchObject({ id: 'collect-logs', items: ['no readable logs in the evidence'] });
    expect(ids(host('h', [], FULL_COVERAGE, 'clean'))).toEqual(['update', 'keep-logs']);
    expect(ids(host('h', [finding({ id: 'I', rule: 'PL-15', kind: 'ioc', severity: 'medium' })], FULL_COVERAGE, 'suspicious'))).toEqual(['review', 'update']);
  });
});
