// The Sigma bridge both ways: every SigmaHQ Exchange rule for a source exhunt reads (vendored under
// test/fixtures/sigma/sigmahq, DRL 1.1) loads and fires on a record built from its own detection values, and the
// export validates against the official Sigma v2.1 JSON Schema.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { LogRecord } from '../src/model.js';
import type { Condition } from '../src/rules/conditions.js';
import { builtinIocs } from '../src/rules/iocs.js';
import { defaultMapping, sigmaRule, sigmaRules, SigmaError } from '../src/rules/sigma.js';
import type { RecordRule } from '../src/rules/types.js';
import { exhunt } from './support/cli.js';

const DIR = join(import.meta.dirname, 'fixtures', 'sigma');
const SIGMAHQ = join(DIR, 'sigmahq');
const files = readdirSync(SIGMAHQ).filter((f) => f.endsWith('.yml')).sort();
const text = (f: string) => readFileSync(join(SIGMAHQ, f), 'utf8');
const ctx = { iocs: builtinIocs() };
const tmp = mkdtempSync(join(tmpdir(), 'exhunt-sigma-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Field values that satisfy a condition (first branch of each `any`; `not` left unsatisfied by construction). */
function satisfy(c: Condition, out: Map<string | null, string[]>): void {
  if ('op' in c) {
    const vals = c.all || c.op === 'contains' ? (c.all ? c.values : [c.values[0]]) : [c.values[0]];
    const list = out.get(c.field) ?? [];
    if (c.op === 'equals') out.set(c.field, [vals[0]]);
    else if (c.op === 're') list.push(c.values[0].replace(/\\(.)/g, '$1').replace(/\[\\s\\S\]\*|\^|\$/g, ''));
    else if (c.op === 'startswith') list.unshift(vals[0]);
    else list.push(...vals);
    if (c.op !== 'equals') out.set(c.field, list);
  } else if ('any' in c) satisfy(c.any[0], out);
  else if ('all' in c) for (const x of c.all) satisfy(x, out);
}

/** A record of the rule's format whose mapped fields carry the rule's own detection values. */
function recordFor(rule: RecordRule): LogRecord {
  const want = new Map<string | null, string[]>();
  satisfy(rule.condition!, want);
  const join = (k: string | null) => (want.get(k) ?? []).join('');
  if (rule.formats[0] === 'evtx') {
    // Keywords and Data (the event data as a whole) go into the message; named fields (EventID, Provider_Name, Level)
    // into the record fields the mapping reads them from, with the value the event log writes (Level Error = 2).
    const source = defaultMapping().sources.find((s) => s.name === rule.sigma!.logsource)!;
    const recordField = (k: string): [string, (v: string) => string] => {
      const m = source.fields[k];
      if (m === undefined || typeof m === 'string') return [m ?? k, (v) => v];
      if (!('field' in m)) throw new Error(`joined field ${k} in an event log source`);
      return [m.field, (v) => Object.entries(m.values ?? {}).find(([, name]) => name === v)?.[0] ?? v];
    };
    const named = Object.fromEntries(
      [...want].filter(([k]) => k !== null && k !== 'Data').map(([k, v]) => {
        const [name, value] = recordField(k as string);
        return [name, value(v.join(''))];
      }),
    );
    const message = [join(null), join('Data')].join(' ');
    return { format: 'evtx', path: `${source.channel}.evtx`, record: 1, time: '2021-08-20T10:00:00Z', fields: { Channel: source.channel!, ...named, Message: message } };
  }
  // Sigma's cs-uri-query is the whole URI (stem?query): its values go to the query, or make the stem when they start it.
  const q = join('cs-uri-query');
  const stem = join('cs-uri-stem') || (q.startsWith('/') ? q : '/');
  const query = join('cs-uri-stem') || !q.startsWith('/') ? q : '';
  const fields: Record<string, string> = {
    'cs-method': join('cs-method') || 'GET',
    'cs-uri-stem': stem,
    ...(query ? { 'cs-uri-query': query } : {}),
    ...(want.has('cs-username') ? { 'cs-username': join('cs-username') } : {}),
    'sc-status': join('sc-status') || '200',
    'c-ip': '203.0.113.9',
    'cs(User-Agent)': (join('cs-user-agent') || join('c-useragent') || 'Mozilla/5.0').replace(/ /g, '+'),
  };
  // Keyword selections (no field) match the raw line: their values go into it.
  return { format: 'iis', path: 'W3SVC1/u_ex210303.log', line: 5, time: '2021-03-03T06:49:42Z', fields, raw: [...Object.values(fields), join(null)].join(' ') };
}

describe('Sigma import (scan --rules)', () => {
  it('loads every vendored SigmaHQ rule for a supported source, and each fires on its own detection values', () => {
    const { rules, problems } = sigmaRules(files.map((f) => ({ name: f, text: text(f) })));
    expect(problems).toEqual([]);
    expect(rules.length).toBe(files.length);
    expect(rules.filter((r) => r.formats.includes('iis')).length).toBeGreaterThanOrEqual(11);
    expect(rules.filter((r) => r.formats.includes('evtx')).length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) {
      const rec = recordFor(rule);
      const hit = rule.match(rec, ctx);
      expect(hit, `${rule.id} ${rule.title} on ${JSON.stringify(rec.fields)}`).not.toBeNull();
      if (rule.needles.length) expect(rule.needles.some((n) => rec.raw!.toLowerCase().includes(n.toLowerCase())), `${rule.id}: needles ${rule.needles.join(' | ')} miss its line (any case, as the engine searches)`).toBe(true);
      const ev = (Array.isArray(hit) ? hit[0] : hit)!.evidence;
      // DRL 1.1: the author of the rule travels with every finding.
      expect(ev.rule_author).toBe(parseYaml(text(files[rules.indexOf(rule)])).author);
      expect(ev.rule_license).toBe('DRL-1.1');
    }
  });

  it('does not fire on benign traffic', () => {
    const rules = sigmaRules(files.map((f) => ({ name: f, text: text(f) }))).rules;
    const benign: LogRecord = { format: 'iis', path: 'u_ex.log', line: 9, time: null, fields: { 'cs-method': 'GET', 'cs-uri-stem': '/owa/', 'sc-status': '200', 'cs(User-Agent)': 'Mozilla/5.0' }, raw: 'GET /owa/ 200' };
    expect(rules.filter((r) => r.formats.includes('iis') && r.match(benign, ctx)).map((r) => r.id)).toEqual([]);
  });

  it('refuses unsupported modifiers, sources and non-linear regexes with a message naming the rule', () => {
    const base = (detection: string, logsource = 'category: webserver') => `title: t\nid: 11111111-2222-4333-8444-555555555555\nlogsource:\n  ${logsource}\ndetection:\n${detection}\nlevel: high\n`;
    const err = (t: string) => {
      try {
        sigmaRule(t, 'x.yml', defaultMapping());
        return 'loaded';
      } catch (e) {
        return e instanceof SigmaError ? e.message : String(e);
      }
    };
    expect(err(base("  sel:\n    cs-uri-query|base64offset|contains: 'x'\n  condition: sel"))).toMatch(/x\.yml.*modifier \|base64offset is not supported/);
    expect(err(base("  sel:\n    Image|endswith: 'x.exe'\n  condition: sel", 'category: process_creation'))).toMatch(/x\.yml: logsource .* is not one exhunt reads/);
    expect(err(base("  sel:\n    cs-uri-query|re: '(a)\\1'\n  condition: sel"))).toMatch(/x\.yml: regex refused .*linear time/);
    expect(err(base("  sel:\n    cs-uri-query|contains: 'x'\n  condition: sel and nothere"))).toMatch(/unknown selection nothere/);
  });

  it('exhunt scan --rules runs them end to end and names the author in JSON, NDJSON, CSV and HTML', () => {
    const host = join(tmp, 'mail09', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
    execFileSync('mkdir', ['-p', host]);
    writeFileSync(
      join(host, 'u_ex210830.log'),
      [
        '#Software: Microsoft Internet Information Services 10.0',
        '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
        '2021-08-30 10:00:00 10.0.0.5 POST /ecp/RulesEditor/InboxRules.svc/NewObject SecurityToken=abc 443 - 203.0.113.9 python-requests/2.25 - 500 0 0 12',
        '2021-08-30 10:00:01 10.0.0.5 GET /owa/ - 443 - 198.51.100.7 Mozilla/5.0 - 200 0 0 5',
        '',
      ].join('\r\n'),
    );
    const out = join(tmp, 'out');
    const r = exhunt(['scan', join(tmp, 'mail09'), '--rules', join(SIGMAHQ, 'web_cve_2021_33766_msexchange_proxytoken.yml'), '--json', `${out}.json`, '--ndjson', `${out}.ndjson`, '--csv', `${out}-csv`, '--html', `${out}.html`, '--quiet']);
    expect(r.stderr).toBe('');
    const json = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    const sigma = json.hosts[0].findings.filter((f: { rule: string }) => f.rule === 'SIGMA-56973b50');
    expect(sigma).toHaveLength(1);
    expect(sigma[0].source.line).toBe(3);
    const author = 'Florian Roth (Nextron Systems), Max Altgelt (Nextron Systems), Christian Burkard (Nextron Systems)';
    expect(sigma[0].evidence.rule_author).toBe(author);
    for (const file of [`${out}.ndjson`, join(`${out}-csv`, 'exhunt-findings.csv'), `${out}.html`]) expect(readFileSync(file, 'utf8'), file).toContain('Max Altgelt');
  });

  it('a folder with nothing usable is a usage error (exit 2), an unsupported rule in it a message', () => {
    const bad = join(tmp, 'bad');
    execFileSync('mkdir', ['-p', bad]);
    writeFileSync(join(bad, 'p.yml'), 'title: p\nlogsource:\n  category: process_creation\ndetection:\n  s:\n    Image: x\n  condition: s\n');
    const r = exhunt(['scan', bad, '--rules', bad, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yml: logsource .* is not one exhunt reads/);
    expect(r.stderr).toMatch(/no usable Sigma rule/);
  });
});

describe('Sigma export (rules export --sigma)', () => {
  it('writes the declarative rules as Sigma v2.1 YAML that the official JSON Schema accepts, with cve.* and attack.* tags', () => {
    const dir = join(tmp, 'export');
    const r = exhunt(['rules', 'export', '--sigma', dir]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(readFileSync(join(DIR, 'spec', 'sigma-detection-rule-schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    const written = readdirSync(dir).filter((f) => f.endsWith('.yml'));
    expect(written.length).toBeGreaterThan(0);
    for (const f of written) {
      const doc = parseYaml(readFileSync(join(dir, f), 'utf8'));
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const pt = parseYaml(readFileSync(join(dir, 'exhunt_pt_01.yml'), 'utf8'));
    expect(pt.logsource).toEqual({ category: 'webserver' });
    expect(pt.tags).toEqual(expect.arrayContaining(['cve.2021-33766', 'attack.initial-access', 'attack.t1190']));
    // Round trip: the exported rule loads back and fires where PT-01 fires.
    const back = sigmaRule(readFileSync(join(dir, 'exhunt_pt_01.yml'), 'utf8'), 'exhunt_pt_01.yml', defaultMapping());
    const rec: LogRecord = { format: 'iis', path: 'u.log', line: 1, time: null, fields: { 'cs-method': 'POST', 'cs-uri-stem': '/ecp/RulesEditor/InboxRules.svc/NewObject', 'cs-uri-query': 'x=1', 'sc-status': '500' }, raw: '' };
    expect(back.match(rec, ctx)).not.toBeNull();
    expect(back.match({ ...rec, fields: { ...rec.fields, 'sc-status': '200' } }, ctx)).toBeNull();
  });
});
