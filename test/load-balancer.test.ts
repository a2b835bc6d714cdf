// Exchange behind a load balancer (F5, Kemp, NetScaler, HAProxy with source NAT): IIS logs the balancer's address as
// c-ip for every request, and admins add the balancer's X-Forwarded-For header as an IIS custom log field (IIS 8.5+
// "Enhanced Logging" custom fields, logged under the field name the admin gives, here `X-Forwarded-For`). Evidence:
// the shipped mail01 example's W3SVC1 logs (HelseCERT's published 2021 values: the RedirSuiteServerProxy.aspx
// requests from 139.162.202.236, examples/README.md), rewritten as such a balancer would have them logged. The
// attacker must be named by the address the balancer saw, never the balancer's own address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const MAIL01 = 'examples/evidence/mail01-compromised';
const W3SVC1 = 'C/inetpub/logs/LogFiles/W3SVC1';
const BALANCER = '10.20.0.2';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-lb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One IIS log as logged behind the balancer: c-ip is the balancer, X-Forwarded-For the client (the last field). */
function behindBalancer(text: string, forwarded: (client: string, line: number) => string): string {
  let cip = -1;
  return text
    .split('\r\n')
    .map((line, i) => {
      if (line.startsWith('#Fields:')) {
        cip = line.slice(8).trim().split(' ').indexOf('c-ip');
        return `${line} X-Forwarded-For`;
      }
      if (line === '' || line.startsWith('#')) return line;
      const t = line.split(' ');
      const client = t[cip];
      t[cip] = BALANCER;
      return `${t.join(' ')} ${forwarded(client, i)}`;
    })
    .join('\r\n');
}

function scanJson(path: string, name: string): HostResult {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', path, '--json', out, '--jobs', '1']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

const iisClients = (h: HostResult) => h.findings.filter((f) => f.lane === 'IIS' && f.rule !== 'PL-15').map((f) => `${f.rule} ${f.time} ${f.client_ip}`).sort();

let plain: HostResult;
let balanced: HostResult;

beforeAll(() => {
  const root = join(dir, 'mail01');
  cpSync(MAIL01, root, { recursive: true });
  const iis = join(root, W3SVC1);
  for (const name of readdirSync(iis)) {
    const text = readFileSync(join(iis, name), 'utf8');
    // Every other line with a second balancer hop, and a value the client itself sent in front (spoofed).
    writeFileSync(join(iis, name), behindBalancer(text, (client, i) => (i % 2 ? client : `6.6.6.6,+${client},+10.1.1.1`)));
  }
  plain = scanJson(MAIL01, 'plain');
  balanced = scanJson(root, 'balanced');
}, 240_000);

describe('IIS behind a load balancer with X-Forwarded-For logged', () => {
  it('names the same clients as the direct logs, the balancer as proxy_ip', () => {
    expect(balanced.verdict).toBe('compromised');
    expect(iisClients(balanced)).toEqual(iisClients(plain));
    expect(iisClients(balanced).some((c) => c.endsWith(' 139.162.202.236'))).toBe(true);
    const shell = balanced.findings.find((f) => f.rule === 'WS-40' && f.client_ip === '139.162.202.236');
    expect(shell?.evidence.proxy_ip).toBe(BALANCER);
  });

  it('never blames the balancer: no incident or finding has its address as the client', () => {
    expect(balanced.findings.filter((f) => f.client_ip === BALANCER)).toEqual([]);
    expect(balanced.incidents.flatMap((i) => i.client_ips)).not.toContain(BALANCER);
    expect(balanced.incidents.flatMap((i) => i.client_ips)).not.toContain('6.6.6.6');
  });

  it('a public c-ip is the client whatever X-Forwarded-For says (a client can send the header itself)', () => {
    const root = join(dir, 'spoof');
    const line =
      '2021-03-05 03:06:27 10.20.0.11 POST /owa/auth/RedirSuiteServerProxy.aspx &CorrelationID=<empty>;&cafeReqId=cde28fc4-299e-4179-b3e9-de56f5c1d9ee;&encoding=; 443 - 139.162.202.236 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 133 8.8.8.8';
    const head = [
      '#Software: Microsoft Internet Information Services 10.0',
      '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken X-Forwarded-For',
    ];
    cpSync(join(MAIL01, W3SVC1, 'u_ex210305.log'), join(root, 'W3SVC1', 'u_ex210304.log'));
    writeFileSync(join(root, 'W3SVC1', 'u_ex210305.log'), [...head, line, ''].join('\r\n'));
    const h = scanJson(root, 'spoof');
    const ws = h.findings.filter((f) => f.rule === 'WS-40' && f.source.path.endsWith('u_ex210305.log'));
    expect(ws.map((f) => [f.client_ip, f.evidence.proxy_ip])).toEqual([['139.162.202.236', undefined]]);
  });

  it('other names a balancer or an admin gives the client-address field are read too', () => {
    // Akamai's True-Client-IP, NetScaler's Client-IP, an admin's `X_Forwarded_For` or `OriginalIP`: one value each.
    const line = (ip: string) =>
      `2021-03-05 03:06:27 10.20.0.11 POST /owa/auth/RedirSuiteServerProxy.aspx &CorrelationID=<empty>;&cafeReqId=cde28fc4-299e-4179-b3e9-de56f5c1d9ee;&encoding=; 443 - ${BALANCER} Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - 200 0 0 133 ${ip}`;
    const fields = '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken';
    const root = join(dir, 'names');
    const names = ['True-Client-IP', 'Client-IP', 'X_Forwarded_For', 'OriginalIP'];
    names.forEach((name, i) => {
      const log = ['#Software: Microsoft Internet Information Services 10.0', `${fields} ${name}`, line(`139.162.202.${236 + i}`), ''];
      cpSync(join(MAIL01, W3SVC1, 'u_ex210305.log'), join(root, `W3SVC${i + 1}`, 'u_ex210304.log'));
      writeFileSync(join(root, `W3SVC${i + 1}`, 'u_ex210305.log'), log.join('\r\n'));
    });
    const h = scanJson(root, 'names');
    const ws = h.findings.filter((f) => f.rule === 'WS-40' && f.source.path.endsWith('u_ex210305.log'));
    expect(ws.map((f) => [f.source.path.split('/')[0], f.client_ip, f.evidence.proxy_ip]).sort()).toEqual(
      names.map((_, i) => [`W3SVC${i + 1}`, `139.162.202.${236 + i}`, BALANCER]),
    );
  });
});
