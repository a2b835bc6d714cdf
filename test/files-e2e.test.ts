// End to end through the engine: a realistic evidence tree (copies of the public samples; nothing is written
// under ../shared) scanned by `scan()`, IIS logs and the file sweep together.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HostResult } from '../src/model.js';
import { scan } from '../src/engine/scan.js';
import { external, missingExternal } from './support/external.js';

const EX = 'Program Files/Microsoft/Exchange Server/V15';
let host: HostResult;
let root: string;
// Samples without a redistribution licence (not vendored): the whole tree is built only when they are here.
const UNVENDORED = [
  'helsecert-2021-march-exchange/extracted/iis_W3SVC1_u_ex21030x_webshell_RedirSuiteServerProxy_access.log',
  'EVTX-ATTACK-SAMPLES/Command_and_Control/Tunna_rdp_tunnel_IIS.log',
  'hamad-she-proxyshell-writeup/iis_proxyshell_lines_as_published.log',
  'EVTX-ATTACK-SAMPLES/Command_and_Control/web_attack_and_isp_webshell_localhost_access_log.txt',
  'hamad-she-proxyshell-writeup/webshell_vb_cmd_proxyshell_incident.aspx',
];
const missing = UNVENDORED.map(missingExternal).find((why) => why !== undefined);
const needSamples = (ctx: { skip: (condition: boolean, note?: string) => void }) => ctx.skip(missing !== undefined, missing);

function copy(src: string, rel: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  copyFileSync(external(src), join(root, rel));
}
function put(rel: string, data: string | Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), data);
}

beforeAll(async () => {
  if (missing) return;
  root = mkdtempSync(join(tmpdir(), 'exhunt-e2e-'));
  // IIS: the HelseCERT extract (header-less), the Tunna log, the hamad-she ProxyShell lines, an Apache log.
  copy('helsecert-2021-march-exchange/extracted/iis_W3SVC1_u_ex21030x_webshell_RedirSuiteServerProxy_access.log', 'inetpub/logs/LogFiles/W3SVC1/u_ex210305.log');
  copy('EVTX-ATTACK-SAMPLES/Command_and_Control/Tunna_rdp_tunnel_IIS.log', 'inetpub/logs/LogFiles/W3SVC1/u_ex190903.log');
  copy('hamad-she-proxyshell-writeup/iis_proxyshell_lines_as_published.log', 'inetpub/logs/LogFiles/W3SVC2/u_ex210303.log');
  // The first 20 lines of the Apache sample (the full file has a NUL byte at 2862, which the engine treats as binary).
  const apache = readFileSync(external('EVTX-ATTACK-SAMPLES/Command_and_Control/web_attack_and_isp_webshell_localhost_access_log.txt'), 'latin1');
  put('tomcat/logs/localhost_access_log.txt', apache.split('\n').slice(0, 20).join('\n'));
  // Disk: a China Chopper in aspnet_client, the VB shell in owa\auth, the genuine OAB web.config, an lsass dump.
  copy('tennc-webshell/caidao-shell/ice.aspx', 'inetpub/wwwroot/aspnet_client/system_web/ice.aspx');
  copy('hamad-she-proxyshell-writeup/webshell_vb_cmd_proxyshell_incident.aspx', `${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx`);
  copy('CSS-Exchange-HealthChecker-testdata/E19/DefaultWebSite-OAB_web.config', `${EX}/FrontEnd/HttpProxy/OAB/web.config`);
  put('Windows/Temp/lsass.dmp', Buffer.concat([Buffer.from('MDMP'), Buffer.alloc(1000)]));
  put('inetpub/logs/LogFiles/W3SVC1/u_ex210306.log', [
    '#Software: Microsoft Internet Information Services 10.0',
    '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
    '2021-03-06 09:00:00 10.1.1.5 GET /owa/auth/15.1.2176/themes/resources/favicon.ico &CorrelationID=<empty>;&cafeReqId=aa;&encoding=; 443 - 10.1.1.9 Mozilla/5.0 - 200 0 0 1',
    '',
  ].join('\r\n'));
  const report = await scan({ paths: [root], jobs: 1 });
  host = report.hosts[0];
}, 120_000);

describe('exhunt scan over IIS logs and files', () => {
  it('reports IIS web-shell access, ProxyShell, the tunnel and the shells on disk', (ctx) => {
    needSamples(ctx);
    const by = (rule: string) => host.findings.filter((f) => f.rule === rule);
    expect(by('WS-40')).toHaveLength(5);
    expect(by('PX-R4')).toHaveLength(3);
    expect(by('PS-02').length + by('PS-03').length).toBe(5);
    expect(by('WS-44').length).toBeGreaterThan(0);
    expect(by('WS-21')[0].source.path).toBe('inetpub/wwwroot/aspnet_client/system_web/ice.aspx');
    expect(by('WS-31')[0]).toMatchObject({ severity: 'high', source: { path: `${EX}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx` } });
    expect(by('PX-07')[0]).toMatchObject({ severity: 'critical' });
    expect(host.verdict).toBe('compromised');
  });

  it('finds nothing in the genuine OAB web.config; the Apache log is read, never counted as web coverage of Exchange', (ctx) => {
    needSamples(ctx);
    expect(host.findings.filter((f) => f.source.path.endsWith('OAB/web.config'))).toEqual([]);
    expect(host.coverage).toContainEqual(expect.objectContaining({ source: 'web access log in NCSA/Apache format (a proxy or another web server: not counted as coverage)', format: 'ncsa', first: '2018-07-11T05:41:28Z' }));
  });

  it('covers IIS per site, and reads the build from the /owa/auth/<build>/ path', (ctx) => {
    needSamples(ctx);
    const sources = host.coverage.map((c) => c.source);
    expect(sources).toEqual(expect.arrayContaining(['IIS W3SVC1', 'IIS W3SVC2']));
    expect(host.facts).toContainEqual(expect.objectContaining({ kind: 'build', value: '15.1.2176', origin: 'IIS /owa/auth/<build>/ path' }));
  });

  it('never writes to the evidence', (ctx) => {
    needSamples(ctx);
    expect(readFileSync(join(root, 'Windows/Temp/lsass.dmp')).subarray(0, 4).toString()).toBe('MDMP');
  });
});
