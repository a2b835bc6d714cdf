// The output contract end to end on the example evidence: what the terminal tells a person, `-` for stdout, the
// CSV byte-order mark, one error prefix, --since validation, and the Timesketch and STIX files their tools import.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const MAIL01 = 'examples/evidence/mail01-compromised';
const MAIL02 = 'examples/evidence/mail02-clean';
const MAIL04 = 'examples/evidence/mail04-nologs';

// ajv's CommonJS default export under NodeNext typing
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'exhunt-out-'));
}

describe('terminal summary', () => {
  const dir = tmp();
  const html = join(dir, 'report.html');
  const r = exhunt(['scan', MAIL01, MAIL02, MAIL04, '--html', html]);
  const block = (name: string) => {
    const start = r.stdout.indexOf(`${name}  `);
    const end = r.stdout.indexOf('\n\n', r.stdout.indexOf('\n\n', start) + 2);
    return r.stdout.slice(start, end);
  };

  it('gives reasons in words with the rule id in brackets at the end', () => {
    // Named by the evidence folder too: in a fleet, another customer's MAIL01 is another host (review10 R6).
    const mail01 = block('mail01-compromised (MAIL01)');
    expect(mail01).toMatch(/^mail01-compromised \(MAIL01\) {2}COMPROMISED {2}The evidence shows an attacker got in\./);
    expect(mail01).toContain('  - web shell C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx is on disk and answered a request with HTTP 2xx');
    expect(mail01).toMatch(/\n {2}- SSRF to mail01\.corp\.example\.org:444\/mapi\/emsmdb\/\?# \(HTTP 200\) from 130\.255\.189\.21 \(and 7 more like it\) \[PL-02\]\n/);
    expect(mail01).not.toMatch(/\n {2}- [A-Z]{2,3}-\w+/);
  });

  it('says what to do now: collect, isolate, the shells by server path, the update by KB with the mitigation command', () => {
    const steps = block('mail01-compromised (MAIL01)').split('What to do now:\n')[1].split('\n  Timeline')[0];
    expect(steps).toContain('1. Preserve evidence before changing anything\n        exhunt collect C:\\ --case E:\\exhunt-case.zip --host MAIL01');
    expect(steps).toContain('2. Cut the server off from the internet');
    expect(steps).toContain('3. Remove the web shells (after imaging)\n        C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx\n        C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\RedirSuiteServerProxy.aspx');
    expect(steps).toContain('5. Install the security update for build 15.1.2176.2 (Exchange 2016 CU19): KB5011155, then Oct26SU\n        exhunt mitigate --proxylogon --proxynotshell --owa-csp > mitigate.ps1');
    expect(steps.match(/^ {3}\d\. /gm)).toHaveLength(5);
    expect(block('mail01-compromised (MAIL01)')).toContain(`Timeline, incidents and every finding: ${html}`);
  });

  it('names the exposure and its update, and spells the build once with its source', () => {
    const mail02 = block('mail02-clean (MAIL02)');
    expect(mail02).toContain('  build: 15.1.2176.9 (Exchange 2016 CU19 Mar21SU), read from ECP S:BLD\n');
    expect(mail02).not.toMatch(/15\.01\.2176/);
    expect(mail02).toContain('  exposure (high): Exchange build vulnerable to ProxyShell, ProxyNotShell / OWASSRF during the window [EXP-01]\n    exploited in the wild (CISA KEV), open on the current build: CVE-2026-42897, CVE-2021-31196, CVE-2024-21410, CVE-2021-33766, CVE-2021-42321\n    update: Upgrade to Exchange 2016 CU23 (KB5011155');
    expect(mail02).toContain('1. Install the security update for build 15.1.2176.9 (Exchange 2016 CU19): KB5011155, then Oct26SU\n        exhunt mitigate --proxynotshell --owa-csp > mitigate.ps1');
  });

  it('says what would decide an insufficient-evidence host', () => {
    expect(block('mail04-nologs')).toContain('  - to decide it: add the HttpProxy logs (Exchange Server\\V15\\Logging\\HttpProxy) and IIS logs (inetpub\\logs\\LogFiles) from 2020-12-01 on');
  });

  it('points to --html when no HTML report was written', () => {
    expect(exhunt(['scan', MAIL04]).stdout).toContain('Timeline, incidents and every finding: scan again with --html report.html');
  });
});

describe('command line', () => {
  it.each(['2021-13-45', '2021-02-29', '2021-04-31', '21-01-01', '2021-01-01T25:00:00Z', 'yesterday'])('refuses --since %s clearly', (since) => {
    const r = exhunt(['scan', MAIL04, '--since', since]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`exhunt: --since: not a valid date: ${JSON.stringify(since)} (use YYYY-MM-DD, e.g. 2021-01-01)\n`);
  });

  it('accepts a real date and a leap day', () => {
    // Accepted: a verdict's code (mail04 has no logs, 4, but its applicationHost.config leaves Extended Protection
    // off: exposed, 3, comes first), not a usage error (2).
    expect(exhunt(['scan', MAIL04, '--since', '2020-02-29', '-q']).code).toBe(3);
  });

  it('uses one error prefix, for commander errors too', () => {
    expect(exhunt(['scan', '--bogus']).stderr).toBe("exhunt: unknown option '--bogus'\n");
    expect(exhunt(['build']).stderr).toBe("exhunt: missing required argument 'BUILD'\n");
    expect(exhunt(['nope']).stderr).toMatch(/^exhunt: unknown command 'nope'/);
  });

  it.each(['scan', 'build', 'check', 'collect', 'verify', 'mitigate', 'evtx dump'])('%s --help shows real examples', (cmd) => {
    const r = exhunt([...cmd.split(' '), '--help']);
    expect(r.code).toBe(0);
    const examples = r.stdout.split('Examples:\n')[1]?.split('\n\n')[0]?.split('\n').filter((l) => l.startsWith('  exhunt ')) ?? [];
    expect(examples.length, r.stdout).toBeGreaterThanOrEqual(2);
    expect(examples.length).toBeLessThanOrEqual(3);
    for (const e of examples) expect(e.startsWith(`  exhunt ${cmd}`), e).toBe(true);
  });
});

describe('- is stdout for every output option', () => {
  it.each([
    ['--json', (s: string) => expect(JSON.parse(s).schema).toBe('exhunt.scan/1')],
    ['--html', (s: string) => expect(s.startsWith('<!DOCTYPE html>')).toBe(true)],
    ['--ndjson', (s: string) => expect(s.trim().split('\n').every((l) => JSON.parse(l).ecs.version)).toBe(true)],
    ['--timesketch', (s: string) => expect(s.trim().split('\n').every((l) => typeof JSON.parse(l).datetime === 'string')).toBe(true)],
    ['--stix', (s: string) => expect(JSON.parse(s).type).toBe('bundle')],
    ['--csv', (s: string) => expect(s.startsWith('"host","host_label","id","time","severity"')).toBe(true)],
  ])('%s - writes only that output to stdout', (flag, check) => {
    const r = exhunt(['scan', MAIL01, flag, '-']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('What to do now');
    check(r.stdout);
  });

  it('refuses two outputs on stdout', () => {
    const r = exhunt(['scan', MAIL01, '--json', '-', '--stix', '-']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'exhunt: only one output can go to stdout (-), not --json and --stix\n' });
  });
});

describe('CSV byte-order mark', () => {
  it('starts every .csv file with EF BB BF under --csv-bom, and none without it', () => {
    const withBom = tmp();
    const without = tmp();
    exhunt(['scan', MAIL01, '--csv', withBom, '--csv-bom', '-q']);
    exhunt(['scan', MAIL01, '--csv', without, '-q']);
    const csvs = readdirSync(withBom).filter((f) => f.endsWith('.csv'));
    expect(csvs).toContain('exhunt-findings.csv');
    expect(csvs.length).toBeGreaterThan(1);
    for (const f of csvs) {
      expect([...readFileSync(join(withBom, f)).subarray(0, 3)], f).toEqual([0xef, 0xbb, 0xbf]);
      expect(readFileSync(join(without, f))[0], f).not.toBe(0xef);
      expect(readFileSync(join(withBom, f), 'utf8').slice(1)).toBe(readFileSync(join(without, f), 'utf8'));
    }
    // The .log files are not CSV: Test-ProxyLogon's readers take them as plain text.
    for (const f of readdirSync(withBom).filter((x) => x.endsWith('.log'))) expect(readFileSync(join(withBom, f))[0]).not.toBe(0xef);
    expect(exhunt(['scan', MAIL01, '--csv', '-', '--csv-bom']).stdout.startsWith('\ufeff"host","host_label","id",')).toBe(true);
  });
});

describe('Timesketch JSON Lines', () => {
  const validate = ajv.compile(JSON.parse(readFileSync('schema/timesketch.jsonl.schema.json', 'utf8')));
  const json = join(tmp(), 'r.json');
  const r = exhunt(['scan', MAIL01, MAIL02, '--timesketch', '-', '--json', json]);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('every line matches the import format (message, ISO 8601 datetime, timestamp_desc, flat fields)', () => {
    for (const [i, l] of lines.entries()) expect(validate(l) ? [] : validate.errors, `line ${i + 1}`).toEqual([]);
  });

  it('the schema catches what Timesketch refuses (a test that cannot fail is a defect)', () => {
    expect(validate({ message: 'x', datetime: '2021-03-03 06:49:42', timestamp_desc: 'x' })).toBe(false);
    expect(validate({ message: 'x', datetime: '2021-03-03T06:49:42Z' })).toBe(false);
    expect(validate({ message: 'x', datetime: '2021-03-03T06:49:42Z', timestamp_desc: 'x', evidence: { url: '/' } })).toBe(false);
    expect(validate({ message: 'x', datetime: '2021-03-03T06:49:42Z', timestamp_desc: 'x', __ts_emojis: 'x' })).toBe(false);
  });

  it('one line per dated finding and one per timeline event, with the datetime and timestamp agreeing', () => {
    const report = JSON.parse(readFileSync(json, 'utf8')) as ScanReport;
    const dated = report.hosts.flatMap((h) => h.findings).filter((f) => f.time !== null).length;
    const bursts = report.hosts.flatMap((h) => h.timeline ?? []).length;
    const findings = lines.filter((l) => l.data_type === 'exhunt:finding');
    const events = lines.filter((l) => l.data_type === 'exhunt:timeline');
    expect(findings).toHaveLength(dated);
    expect(events).toHaveLength(bursts);
    expect(dated).toBeGreaterThan(50);
    expect(bursts).toBeGreaterThan(5);
    for (const l of lines) expect(Date.parse(l.datetime as string) * 1000).toBe(l.timestamp);
    const ssrf = findings.find((l) => l.rule === 'PL-02');
    expect(ssrf).toMatchObject({ hostname: 'MAIL01', client_ip: '130.255.189.21', timestamp_desc: 'Event Recorded', host_verdict: 'compromised' });
    expect(typeof ssrf?.evidence_request_id).toBe('string');
    expect(String(ssrf?.message)).toMatch(/^\[mail01-compromised \(MAIL01\)\] /);
    expect(ssrf?.host_label).toBe('mail01-compromised (MAIL01)');
  });
});

describe('STIX 2.1 bundle', () => {
  const validate = ajv.compile(JSON.parse(readFileSync('test/fixtures/stix21/required.schema.json', 'utf8')));
  const r = exhunt(['scan', MAIL01, MAIL02, '--stix', '-']);
  const bundle = JSON.parse(r.stdout) as { type: string; id: string; objects: Array<Record<string, any>> }; // any: STIX objects vary by type
  const byType = (t: string) => bundle.objects.filter((o) => o.type === t);
  const ids = new Set(bundle.objects.map((o) => o.id));

  it('has every required property with the right form (OASIS STIX 2.1 schemas)', () => {
    expect(validate(bundle) ? [] : validate.errors).toEqual([]);
    for (const o of bundle.objects) expect(o.id.startsWith(`${o.type}--`), o.id).toBe(true);
    expect(ids.size).toBe(bundle.objects.length);
  });

  it('the schema catches a missing or malformed property (a test that cannot fail is a defect)', () => {
    const broken = structuredClone(bundle);
    const ind = broken.objects.find((o) => o.type === 'indicator')!;
    delete ind.valid_from;
    expect(validate(broken)).toBe(false);
    expect(validate({ ...bundle, objects: [{ ...bundle.objects[0], id: 'identity--not-a-uuid' }] })).toBe(false);
    expect(validate({ ...bundle, objects: [{ ...bundle.objects[0], spec_version: '2.0' }] })).toBe(false);
  });

  it('holds the attacker address, web-shell hashes and paths, user agents, and the shell password as a note', () => {
    const patterns = byType('indicator').map((o) => o.pattern as string);
    expect(patterns).toContain("[ipv4-addr:value = '130.255.189.21']");
    expect(patterns).toContain("[file:name = 'xHA6boc8.aspx' AND file:parent_directory_ref.path = 'C:\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\system_web']");
    expect(patterns.some((p) => /^\[file:hashes\.'SHA-256' = '[0-9a-f]{64}'\]$/.test(p))).toBe(true);
    expect(patterns.some((p) => p.startsWith("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "))).toBe(true);
    const note = byType('note').find((n) => n.content.includes('klk123456'));
    expect(note?.abstract).toBe('Web shell password');
    for (const ref of note?.object_refs ?? []) expect(ids.has(ref), ref).toBe(true);
  });

  it('one sighting per indicator and host, pointing at objects in the bundle, never at the clean host', () => {
    const sightings = byType('sighting');
    expect(sightings.length).toBe(byType('indicator').length);
    const mail01 = byType('identity').find((o) => o.name === 'mail01-compromised (MAIL01)')!;
    for (const s of sightings) {
      expect(ids.has(s.sighting_of_ref)).toBe(true);
      expect(s.where_sighted_refs).toEqual([mail01.id]);
      expect(s.count).toBeGreaterThan(0);
      if (s.first_seen) expect(Date.parse(s.last_seen)).toBeGreaterThanOrEqual(Date.parse(s.first_seen));
    }
    expect(byType('identity').map((o) => o.name).sort()).toEqual(['exhunt', 'mail01-compromised (MAIL01)']);
  });

  it('shares no indicator that would block the server or flag every server (review9 F12)', async () => {
    const { stixBundle } = await import('../src/report/stix.js');
    const { finding, host, report, FULL_COVERAGE } = await import('./support/report-fixtures.js');
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const b = stixBundle(report([host('h', [
      // The server's own back-end address and Exchange's own PowerShell client on an exploit line.
      finding({ id: 'A', rule: 'PS-02', kind: 'exploitation', severity: 'critical', client_ip: '10.1.2.7', evidence: { user_agent: 'Microsoft WinRM Client' } }),
      finding({ id: 'B', rule: 'PS-02', kind: 'exploitation', severity: 'critical', client_ip: '203.0.113.50', evidence: { user_agent: 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)' } }),
      // The cmdlet's UNC path first, then the file on disk: the indicator names the path on disk.
      finding({ id: 'U', rule: 'PS-08', kind: 'webshell', severity: 'critical', evidence: { file: '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx' } }),
      finding({ id: 'C', rule: 'WS-40', kind: 'webshell', severity: 'critical', client_ip: '198.51.100.9', evidence: { user_agent: 'python-requests/2.25.1', file: 'C/inetpub/wwwroot/aspnet_client/x.aspx', sha256: '1'.repeat(64) } }),
      // Low file findings: an empty file, a stock page in no known-good list.
      finding({ id: 'D', rule: 'WS-01', kind: 'webshell', severity: 'low', evidence: { file: 'C/inetpub/wwwroot/aspnet_client/.keep', sha256: empty } }),
      finding({ id: 'E', rule: 'WS-07', kind: 'webshell', severity: 'low', evidence: { file: 'C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx' } }),
    ], FULL_COVERAGE)]));
    const patterns = b.objects.filter((o) => o.type === 'indicator').map((o) => String(o.pattern)).sort();
    expect(patterns).toEqual([
      "[file:hashes.'SHA-256' = '1111111111111111111111111111111111111111111111111111111111111111']",
      "[file:name = 'x.aspx' AND file:parent_directory_ref.path = 'C:\\\\inetpub\\\\wwwroot\\\\aspnet_client']",
      "[ipv4-addr:value = '198.51.100.9']",
      "[ipv4-addr:value = '203.0.113.50']",
      "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'python-requests/2.25.1']",
    ]);
  });

  it('escapes quotes and backslashes in pattern literals (evidence is attacker text)', async () => {
    const { stixBundle } = await import('../src/report/stix.js');
    const { finding, host, report, FULL_COVERAGE } = await import('./support/report-fixtures.js');
    const ua = "x' OR 1=1 ]\\";
    const b = stixBundle(report([host('h', [finding({ id: 'A', rule: 'PL-02', kind: 'exploitation', client_ip: '1.2.3.4', evidence: { user_agent: ua } })], FULL_COVERAGE)]));
    const p = b.objects.find((o) => String(o.pattern ?? '').includes('User-Agent'))?.pattern;
    expect(p).toBe("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'x\\' OR 1=1 ]\\\\']");
  });
});
