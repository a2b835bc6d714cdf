import { describe, expect, it } from 'vitest';
import { renderNdjson } from '../src/report/ndjson.js';
import { validateEcs as validate } from './support/ecs.js';
import { compromisedFindings, finding, FULL_COVERAGE, host, report } from './support/report-fixtures.js';

const hostile = [
  finding({ id: 'H1', rule: 'PL-22', kind: 'exploitation', severity: 'critical', time: '2021-03-03T08:12:08Z', client_ip: 'not-an-ip', evidence: { url: '/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory&x=<script>\u2028', status: '200', method: 'post', user_agent: 'Mozilla\n{"index":{}}', sha256: 'nothex' } }),
  finding({ id: 'H2', rule: 'WS-40', kind: 'webshell', time: null, client_ip: '::ffff:10.0.0.7', evidence: { url: 'https://mail.example.com/owa/auth/a.aspx?c=1', status: 'abc', nested: { a: [1, 2] }, list: [1, 'x'], empty: null } }),
  finding({ id: 'H3', rule: 'BUILD', kind: 'exposure', time: null, evidence: { file: 'Logging/HttpProxy/Ecp/x.LOG', install: 'install Mar21SU' } }),
];

describe('renderNdjson', () => {
  const rep = report([host('mail01', compromisedFindings(), FULL_COVERAGE, 'compromised'), host('mail02', hostile, FULL_COVERAGE, 'compromised'), host('mail03', [], [])]);
  const out = renderNdjson(rep);
  const docs = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>); // any: the test walks arbitrary ECS documents
  const doc = (id: string, hostName?: string) => {
    const d = docs.find((x) => x.exhunt.finding_id === id && (hostName === undefined || x.host.name === hostName));
    if (!d) throw new Error(`no document for ${id}`);
    return d;
  };

  it('writes one newline-terminated line per finding, even with newlines and U+2028 in evidence', () => {
    expect(out.endsWith('\n')).toBe(true);
    expect(docs).toHaveLength(compromisedFindings().length + hostile.length);
    expect(renderNdjson(report([host('empty', [], [])]))).toBe('');
  });

  it('every field has the type ECS expects, and nothing outside exhunt.* is undeclared', () => {
    expect(validate(out)).toEqual([]);
  });

  it('the validator catches wrong types (a test that cannot fail is a defect)', () => {
    expect(validate('{"@timestamp":"yesterday","source":{"ip":"x"},"http":{"response":{"status_code":"200"}},"event":{"severity":"high","kind":"bogus"},"foo":1}\n')).toEqual([
      'line 1: @timestamp is not date: "yesterday"',
      'line 1: source.ip is not ip: "x"',
      'line 1: http.response.status_code is not long: "200"',
      'line 1: event.severity is not long: "high"',
      'line 1: event.kind has a value ECS does not allow: "bogus"',
      'line 1: foo is not an ECS field',
    ]);
  });

  it('maps the well-known evidence keys', () => {
    const f1 = doc('F1', 'mail01');
    expect(f1).toMatchObject({
      '@timestamp': '2021-03-03T08:12:01.000Z',
      event: { kind: 'alert', severity: 99, id: 'mail01/F1', dataset: 'exhunt.finding' },
      source: { ip: '130.255.189.21' },
      url: { original: '/ecp/y.js', path: '/ecp/y.js' },
      http: { request: { method: 'POST' }, response: { status_code: 241 } },
      rule: { id: 'PL-02' },
      vulnerability: { id: ['CVE-2021-26855'] },
      log: { file: { path: 'Logging/HttpProxy/Ecp/HttpProxy_2021030308-1.LOG' } },
      exhunt: { incident: 'I2', stage: 'exploited', host_verdict: 'compromised', host_stage: 'post-exploitation', evidence: { request_id: 'A1B2-0001', status: '241' } },
    });
    const f5 = doc('F5');
    expect(f5.file).toEqual({ path: 'Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx', name: 'shell.aspx', hash: { sha256: 'b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0' } });
    expect(f5.threat.technique.id).toEqual(['T1505.003']);
  });

  it('keeps invalid IPs, statuses and hashes out of typed fields', () => {
    const [h1, h2, h3] = ['H1', 'H2', 'H3'].map((id) => doc(id));
    expect(h1.source).toEqual({ address: 'not-an-ip' });
    expect(h1.http.response.status_code).toBe(200);
    expect(h1.url.query).toBe('schema=ResetOABVirtualDirectory&x=<script>\u2028');
    expect(h1.file).toBeUndefined();
    expect(h2.source).toEqual({ address: '::ffff:10.0.0.7', ip: '10.0.0.7' });
    expect(h2.url).toMatchObject({ scheme: 'https', domain: 'mail.example.com', path: '/owa/auth/a.aspx', query: 'c=1' });
    expect(h2.http).toBeUndefined();
    expect(h2['@timestamp']).toBe(rep.tool.finished);
    expect(h2.exhunt.time_known).toBe(false);
    expect(h2.exhunt.evidence).toEqual({ url: 'https://mail.example.com/owa/auth/a.aspx?c=1', status: 'abc', nested: '{"a":[1,2]}', list: ['1', 'x'] });
    // The exposure finding's file is the log its build came from, not a file on disk.
    expect(h3.file).toBeUndefined();
    expect(h3.event.category).toEqual(['vulnerability']);
  });
});

describe('NDJSON rule.reference', () => {
  it('carries the public sources of the rule, and of the parent rule for a graded sub-rule', () => {
    const lines = renderNdjson(report([host('h', [finding({ id: 'F1', rule: 'PL-02', kind: 'exploitation' }), finding({ id: 'F2', rule: 'WS-20', kind: 'webshell' })], FULL_COVERAGE)]))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].rule.reference).toContainEqual(expect.stringContaining('Test-ProxyLogon.ps1'));
    expect(lines[1].rule.reference).toContainEqual(expect.stringContaining('signature-base'));
  });
});
