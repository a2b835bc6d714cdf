import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IOC_IP_RULE, IocFileError, builtinIocs, uaScopeFits } from '../src/rules/iocs.js';
import { loadIocs } from '../src/engine/registry.js';
import { parseCsv } from '../src/parsers/csv.js';
import { iisFormat } from '../src/parsers/iis.js';
import { IIS_RULES } from '../src/rules/iis.js';
import { driveText } from './support/log-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-iocs-'));
const put = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('shipped IOC lists', () => {
  it('load with their sources; genuine Exchange names are marked', () => {
    const st = builtinIocs();
    expect(st.hashes.size).toBe(8);
    expect(st.hashes.get('b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0')?.source).toMatch(/HAFNIUM|SCS-Labs/);
    expect(st.ips.get('67.205.176.9')?.[0]).toMatchObject({ from: '2021-03-01', until: '2021-04-30' });
    expect(st.fileNames.get('outlookcn.aspx')?.genuine).toBe(true);
    expect(st.fileNames.get('shell.aspx')?.genuine).toBe(false);
    expect(st.urlPaths.has('/owa/auth/current/themes/errorfs.aspx')).toBe(true);
    expect(st.pathRegexes.length).toBe(13);
    expect([...st.userAgents.values()].flat().every((u) => u.source.length > 0)).toBe(true);
  });

  it('CSV reader handles quotes, doubled quotes and CRLF', () => {
    expect(parseCsv('a,"b,c","d ""q"""\r\n1,2,3\n')).toEqual([['a', 'b,c', 'd "q"'], ['1', '2', '3']]);
  });

  it('UA scopes: POST with path prefixes', () => {
    expect(uaScopeFits('POST /aspnet_client/|/owa/', 'POST', '/owa/auth/x.aspx')).toBe(true);
    expect(uaScopeFits('POST /aspnet_client/|/owa/', 'GET', '/owa/auth/x.aspx')).toBe(false);
    expect(uaScopeFits('context', 'POST', '/owa/')).toBe(false);
  });
});

describe('--ioc user files', () => {
  it('CSV type,value[,comment] adds IPs (no window), hashes, UAs, names, URLs; bad rows are reported', () => {
    const f = put('mine.csv', [
      'type,value,comment',
      'ip,198.51.100.77,seen in our VPN logs',
      'sha256,' + 'ab'.repeat(32) + ',dropper',
      'ua,Evil Agent/1.0,red team',
      'filename,zz_shell.aspx',
      'url,https://mail.contoso.com/owa/auth/zz.aspx?x=1',
      '# comment line',
      'ip,not-an-ip',
      'colour,blue',
    ].join('\n'));
    const { iocs: st, notes } = loadIocs([f]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/mine\.csv:8: not an IP/);
    expect(notes[1]).toMatch(/unknown IOC type "colour"/);
    expect(st.ips.get('198.51.100.77')?.[0]).toMatchObject({ from: null, until: null, note: 'seen in our VPN logs' });
    expect(st.hashes.has('ab'.repeat(32))).toBe(true);
    expect(st.userAgents.get('evil+agent/1.0')?.[0].scope).toBe('any');
    expect(st.fileNames.has('zz_shell.aspx')).toBe(true);
    expect(st.urlPaths.has('/owa/auth/zz.aspx')).toBe(true);
    // the shipped lists are still there
    expect(st.hashes.size).toBe(9);
  });

  it('user IPs and UAs become needles and match IIS lines in any year', () => {
    const { iocs } = loadIocs([put('ip.csv', 'ip,198.51.100.77\nua,Evil Agent/1.0\n')]);
    const text = [
      '#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status',
      '2024-05-01 10:00:00 GET /owa/ - 198.51.100.77 Mozilla/5.0 200',
      '2024-05-01 10:00:01 GET /owa/ - 192.0.2.1 Evil+Agent/1.0 200',
    ].join('\n');
    const { findings } = driveText(iisFormat, text, 'W3SVC1/u_ex240501.log', IIS_RULES, iocs);
    expect(findings.map((f) => `${f.rule}:${f.source.line}`)).toEqual(['PL-15:2', 'PL-13:3']);
  });

  it('user shell URLs become needles whatever their extension (the prefilter must not skip them)', () => {
    const { iocs } = loadIocs([put('url.csv', 'url,https://mail.contoso.com/aspnet_client/zz_shell.php\n')]);
    const text = [
      '#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status',
      '2024-05-01 10:00:00 POST /aspnet_client/zz_shell.php - 203.0.113.9 Mozilla/5.0 200',
      '2024-05-01 10:00:01 GET /aspnet_client/ZZ_Shell.php - 203.0.113.9 Mozilla/5.0 404',
    ].join('\n');
    const { findings } = driveText(iisFormat, text, 'W3SVC1/u_ex240501.log', IIS_RULES, iocs);
    expect(findings.map((f) => `${f.rule}:${f.source.line}`)).toEqual(['WS-40:2', 'PX-R4:3']);
  });

  it('STIX 2.1 bundle: simple equality patterns, OR-ed terms, validity window; others reported', () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        { type: 'indicator', id: 'indicator--a', pattern_type: 'stix', pattern: "[file:hashes.'SHA-256' = '" + 'cd'.repeat(32) + "']", valid_from: '2021-01-01T00:00:00Z' },
        { type: 'indicator', id: 'indicator--b', pattern: "[ipv4-addr:value = '192.0.2.200'] OR [url:value = 'http://x/aspnet_client/s.aspx']", valid_from: '2022-10-01T00:00:00Z', valid_until: '2022-12-31T00:00:00Z' },
        { type: 'indicator', id: 'indicator--c', pattern: "[file:name = 'evil.ashx']" },
        { type: 'indicator', id: 'indicator--d', pattern: "[process:name = 'x.exe']" },
        { type: 'indicator', id: 'indicator--e', pattern_type: 'sigma', pattern: 'title: x' },
        { type: 'malware', id: 'malware--f', name: 'ignored' },
      ],
    };
    const { iocs: st, notes } = loadIocs([put('b.json', JSON.stringify(bundle))]);
    expect(notes).toHaveLength(2);
    expect(notes.join('\n')).toMatch(/indicator--d: pattern not understood/);
    expect(notes.join('\n')).toMatch(/indicator--e: pattern_type sigma/);
    expect(st.hashes.has('cd'.repeat(32))).toBe(true);
    expect(st.ips.get('192.0.2.200')?.[0]).toMatchObject({ from: '2022-10-01T00:00:00Z', until: '2022-12-31T00:00:00Z' });
    expect(st.urlPaths.has('/aspnet_client/s.aspx')).toBe(true);
    expect(st.fileNames.has('evil.ashx')).toBe(true);
  });

  it('unreadable or unparsable files are errors, not silent', () => {
    expect(() => loadIocs([join(dir, 'missing.csv')])).toThrow(IocFileError);
    expect(() => loadIocs([put('bad.json', '{"objects": 3}')])).toThrow(/not a STIX bundle/);
    expect(() => loadIocs([put('bad2.json', '{nope')])).toThrow(/not valid JSON/);
  });
});

describe('PL-15 on IPv4-mapped IPv6 client addresses', () => {
  it('matches ::ffff:a.b.c.d as the IPv4 address on the list, inside its window', () => {
    const ctx = { iocs: builtinIocs() };
    const rec = (ip: string) => ({ format: 'iis', path: 'u_ex210303.log', line: 5, time: '2021-03-03T06:49:42Z', fields: { 'c-ip': ip }, raw: `x ${ip} y` });
    expect(IOC_IP_RULE.match(rec('::ffff:130.255.189.21'), ctx)).toMatchObject({ client_ip: '130.255.189.21' });
    expect(IOC_IP_RULE.match(rec('::FFFF:130.255.189.21'), ctx)).toMatchObject({ client_ip: '130.255.189.21' });
    expect(IOC_IP_RULE.match(rec('::ffff:130.255.189.22'), ctx)).toBeNull();
  });
});
