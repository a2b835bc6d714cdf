// ECS NDJSON end to end: a Security 4688 event (w3wp.exe starting cmd.exe, the web-shell pattern CISA AA21-062A
// and Microsoft's HAFNIUM post describe) exported as XML, scanned, written as NDJSON and checked against ECS's own
// field definitions; plus the shipped index template that maps exhunt's custom fields.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exhunt } from './support/cli.js';
import { renderNdjson } from '../src/report/ndjson.js';
import { ECS_FIELDS, flatten, validateEcs, WINLOG_FIELDS } from './support/ecs.js';
import { compromisedFindings, FULL_COVERAGE, host, report } from './support/report-fixtures.js';

const NS = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'";
const EVENT = `<Event ${NS}><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2021-03-03T08:15:00.0000000Z'/><EventRecordID>4711</EventRecordID><Correlation/><Execution ProcessID='4' ThreadID='5168'/><Channel>Security</Channel><Computer>EX01.example.local</Computer><Security/></System><EventData><Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>EX01$</Data><Data Name='SubjectDomainName'>EXAMPLE</Data><Data Name='NewProcessId'>0x1a2c</Data><Data Name='NewProcessName'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='ProcessId'>0x2f0</Data><Data Name='CommandLine'>cmd /c whoami</Data><Data Name='ParentProcessName'>c:\\windows\\system32\\inetsrv\\w3wp.exe</Data></EventData></Event>`;

function scanNdjson(): Array<Record<string, any>> { // any: the test walks arbitrary ECS documents
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-ecs-'));
  writeFileSync(join(dir, 'Security-export.xml'), `<Events>${EVENT}</Events>`, 'utf8');
  const r = exhunt(['scan', dir, '--ndjson', '-']);
  expect(r.stderr).toBe('');
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('ECS NDJSON of a process event', () => {
  const docs = scanNdjson();
  const proc = docs.find((d) => d.process !== undefined);

  it('every field exists in ECS (or is a Winlogbeat winlog.* field) and has its type', () => {
    expect(docs.length).toBeGreaterThan(0);
    expect(validateEcs(docs.map((d) => JSON.stringify(d)).join('\n'))).toEqual([]);
  });

  it('fills process.*, user.*, winlog.*, host.name and threat.* from the event', () => {
    expect(proc).toBeDefined();
    expect(proc?.process).toEqual({ executable: 'C:\\Windows\\System32\\cmd.exe', name: 'cmd.exe', command_line: 'cmd /c whoami', pid: 0x1a2c, parent: { executable: 'c:\\windows\\system32\\inetsrv\\w3wp.exe', name: 'w3wp.exe', pid: 0x2f0 } });
    expect(proc?.user).toEqual({ name: 'EX01$' });
    expect(proc?.winlog).toEqual({ channel: 'Security', record_id: '4711', event_id: '4688', computer_name: 'EX01.example.local' });
    // host.name is the host exhunt reports (named from the evidence when a log names it), as on every other line.
    expect(new Set(docs.map((d) => d.host.name)).size).toBe(1);
    expect(proc?.event.category).toContain('process');
    // w3wp.exe starting a shell is a web shell at work (ATT&CK T1505.003).
    expect(proc?.threat.technique.id).toEqual(['T1505.003']);
  });

  it('names the ATT&CK technique of post-exploitation from what the finding shows', () => {
    const docs = renderNdjson(report([host('h', compromisedFindings(), FULL_COVERAGE, 'compromised')])).trim().split('\n').map((l) => JSON.parse(l));
    const dump = docs.find((d) => d.rule.id === 'PX-06');
    expect(dump.threat).toEqual({ framework: 'MITRE ATT&CK', tactic: { id: ['TA0006'], name: ['Credential Access'] }, technique: { id: ['T1003.001'], name: ['LSASS Memory'] } });
  });
});

describe('the ECS field table', () => {
  it('is the vendored ECS, and catches a made-up field and a wrong type (a test that cannot fail is a defect)', () => {
    expect(Object.keys(ECS_FIELDS).length).toBeGreaterThan(2000);
    expect(ECS_FIELDS['process.pid']).toEqual({ type: 'long' });
    expect(validateEcs('{"process":{"pid":"12","made_up":"x"},"event":{"category":"web"}}\n')).toEqual([
      'line 1: process.pid is not long: "12"',
      'line 1: process.made_up is not an ECS field',
      'line 1: event.category is not an array of keyword: "web"',
    ]);
  });

  it('holds every field of upstream ecs_flat.yml (when ../shared is beside the clone)', (ctx) => {
    const upstream = join(import.meta.dirname, '..', '..', 'shared', 'reference', 'upstream', 'ecs', 'ecs_flat.yml');
    ctx.skip(!existsSync(upstream), `${upstream} is absent: the vendored table cannot be compared with it here`);
    const names = [...readFileSync(upstream, 'utf8').matchAll(/^'?([@\w.]+)'?:$/gm)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.keys(ECS_FIELDS).sort());
  });
});

describe('schema/ecs-index-template.json', () => {
  const template = JSON.parse(readFileSync('schema/ecs-index-template.json', 'utf8'));
  const mapped = new Map<string, string>();
  const walk = (props: Record<string, any>, prefix: string) => { // any: Elasticsearch mapping objects
    for (const [k, v] of Object.entries(props)) {
      if (v.properties) walk(v.properties, `${prefix}${k}.`);
      else mapped.set(`${prefix}${k}`, v.type);
    }
  };
  walk(template.template.mappings.properties, '');

  it('is a composable index template for exhunt indices', () => {
    expect(template.index_patterns).toEqual(['exhunt-*']);
    expect(template.template.mappings.dynamic_templates.length).toBeGreaterThan(0);
  });

  it('maps every exhunt.* and winlog.* field the reports write, with the type of the value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-ecs-'));
    writeFileSync(join(dir, 'Security-export.xml'), `<Events>${EVENT}</Events>`, 'utf8');
    const out = [exhunt(['scan', 'examples/evidence/mail01-compromised', 'examples/evidence/mail02-clean', '--ndjson', '-']).stdout, exhunt(['scan', dir, '--ndjson', '-']).stdout].join('');
    const fields = new Map<string, unknown>();
    for (const line of out.trim().split('\n')) for (const [k, v] of flatten(JSON.parse(line))) if (/^(exhunt|winlog)\./.test(k) && !k.startsWith('exhunt.evidence.')) fields.set(k, v);
    expect(fields.size).toBeGreaterThan(10);
    for (const [field, v] of fields) {
      const type = mapped.get(field);
      expect(type, field).toBeDefined();
      const ok = v === null || (type === 'keyword' ? typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')) : type === 'long' ? Number.isInteger(v) : type === 'boolean' ? typeof v === 'boolean' : false);
      expect(ok, `${field}=${JSON.stringify(v)} as ${type}`).toBe(true);
    }
    for (const f of Object.keys(WINLOG_FIELDS)) expect(mapped.get(f), f).toBe('keyword');
    // exhunt.evidence.* holds any key a rule emits: one dynamic template maps them all as keyword.
    expect(template.template.mappings.dynamic_templates).toContainEqual({ exhunt_evidence: { path_match: 'exhunt.evidence.*', mapping: { type: 'keyword', ignore_above: 8191 } } });
  });
});
