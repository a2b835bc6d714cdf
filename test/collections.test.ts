// Velociraptor containers, KAPE target output and evtx_dump JSON Lines, end to end through the CLI; fixtures are
// generated from examples/evidence by test/support/collections.ts in the documented layouts.
import { mkdtempSync, readFileSync, utimesSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding, HostResult, ScanReport } from '../src/model.js';
import { decodeComponent, velociraptorComponent, velociraptorServerPath } from '../src/evidence/layout.js';
import { hostLabel, inputNames } from '../src/engine/hosts.js';
import { exhunt } from './support/cli.js';
import { evtxDumpJsonl, kapeFolder, sanitize, velociraptorEncryptedZip, velociraptorEntries, velociraptorEventRows, velociraptorFolder, velociraptorZip, writeZip } from './support/collections.js';

const MAIL01 = 'examples/evidence/mail01-compromised';
const SHELL = 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx';
const schema = JSON.parse(readFileSync('schema/exhunt.scan-1.schema.json', 'utf8'));
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validate = ajv.compile(schema);

const tmp = () => mkdtempSync(join(tmpdir(), 'exhunt-coll-'));

function scan(args: string[]): { code: number | null; report: ScanReport; stdout: string } {
  const out = join(tmp(), 'r.json');
  const r = exhunt(['scan', ...args, '--json', out]);
  if (r.code === 2) throw new Error(r.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  return { code: r.code, report, stdout: r.stdout };
}

const rules = (h: HostResult) => [...new Set(h.findings.map((f) => f.rule))].sort();
const shellFindings = (h: HostResult) => h.findings.filter((f: Finding) => f.kind === 'webshell' && f.source.server_path !== undefined);

describe('Velociraptor path components', () => {
  it('round-trips the collector escaping, %25 included', () => {
    for (const name of ['C:', '100%_update.aspx', '.hidden', 'trailing.', 'x_', 'store.db', 'Program Files', 'ü$~.aspx', 'a%2Fb']) {
      expect(velociraptorComponent(sanitize(name))).toBe(name);
    }
    expect(decodeComponent('%5C%5C.%5CC%3A')).toBe('\\\\.\\C:');
    expect(decodeComponent('bad%zzescape%4')).toBe('bad%zzescape%4');
    expect(velociraptorServerPath('uploads/ntfs/%5C%5C.%5CC%3A/inetpub/100%25_update.aspx')).toBe('C:\\inetpub\\100%_update.aspx');
    expect(velociraptorServerPath('uploads/auto/C%3A/Program Files/x.log')).toBe('C:\\Program Files\\x.log');
    expect(velociraptorServerPath('uploads/auto/not-a-drive/x.log')).toBeNull();
  });
});

describe('host labels', () => {
  const labels = (hosts: Array<{ input: string; name?: string; server: string | null }>) => {
    const names = inputNames(hosts);
    return hosts.map((h, i) => hostLabel(names[i], h.server));
  };
  it('keep two inputs with the same server name apart', () => {
    expect(labels([{ input: '/c/acme.zip', server: 'MAIL01' }, { input: '/c/globex', server: 'MAIL01' }, { input: '/x/MAIL02', server: 'MAIL02' }, { input: '/x/nologs', server: null }])).toEqual([
      'acme.zip (MAIL01)',
      'globex (MAIL01)',
      'MAIL02 (MAIL02)',
      'nologs',
    ]);
    expect(labels([{ input: '/a/mail.zip', server: 'MAIL01' }, { input: '/b/mail.zip', server: 'MAIL01' }, { input: '/b/mail.zip', server: 'MAIL01' }])).toEqual(['a/mail.zip (MAIL01)', 'b/mail.zip (MAIL01)', 'b/mail.zip #2 (MAIL01)']);
  });
  it('are known from the inputs alone (a report names each host as it is written), a link by its own name (review10 R9)', () => {
    // Same own name, other servers: told apart by the input before any server name is known.
    expect(inputNames([{ input: '/cust-a/EXCH01' }, { input: '/cust-b/EXCH01' }])).toEqual(['cust-a/EXCH01', 'cust-b/EXCH01']);
    expect(inputNames([{ input: '/real/case-0007', name: 'acme' }, { input: '/real/case-0008', name: 'globex' }])).toEqual(['acme', 'globex']);
  });
});

describe('collections in', () => {
  let dir: string;
  let plain: HostResult;
  beforeAll(async () => {
    dir = tmp();
    plain = scan([MAIL01]).report.hosts[0];
    await velociraptorZip(MAIL01, join(dir, 'acme-Collection-MAIL01-2026-12-01.zip'), { host: 'MAIL01', eventRows: true, percentShell: true });
    await velociraptorFolder(MAIL01, join(dir, 'globex-export'), { host: 'MAIL01' });
    await kapeFolder(MAIL01, join(dir, 'initech-kape'), 'MAIL01');
    await velociraptorEncryptedZip(join(dir, 'umbrella-encrypted.zip'));
  }, 60_000);

  it('reads an offline-collector zip: server paths, container provenance, host name, result rows as events', () => {
    const { report } = scan([join(dir, 'acme-Collection-MAIL01-2026-12-01.zip')]);
    const h = report.hosts[0];
    expect(h.name).toBe('MAIL01');
    expect(h.label).toBe('acme-Collection-MAIL01-2026-12-01.zip (MAIL01)');
    expect(h.verdict).toBe('compromised');
    for (const r of rules(plain)) expect(rules(h)).toContain(r);
    const shell = shellFindings(h).find((f) => f.evidence.file === SHELL);
    expect(shell, 'web shell named by its server path').toBeDefined();
    expect(shell!.source.path).toBe('uploads/auto/C%3A/inetpub/wwwroot/aspnet_client/system_web/xHA6boc8.aspx');
    expect(shell!.source.server_path).toBe(SHELL);
    expect(shell!.summary.startsWith(SHELL)).toBe(true);
    const pct = shellFindings(h).find((f) => f.source.path.includes('100%25_update.aspx'));
    expect(pct?.evidence.file).toBe('C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\100%_update.aspx');
    // event rows: parse_evtx row (Sysmon chopper) and EvtxHunter row (ProxyShell export)
    const px01 = h.findings.find((f) => f.rule === 'PX-01');
    expect(px01?.source).toEqual({ path: 'results/Windows.EventLogs.Evtx%2FLogs.json', line: 1 });
    expect(px01?.time).toBe('2021-03-03T11:00:00.2500000Z');
    expect(h.findings.find((f) => f.rule === 'PS-08')?.source.path).toBe('results/Windows.EventLogs.EvtxHunter.json');
    expect(h.coverage.map((c) => c.source)).toContain('EVTX Microsoft-Windows-Sysmon/Operational');
    // container metadata is never swept as a server file
    expect(h.findings.some((f) => /client_info|uploads\.json|Pslist/.test(f.source.path))).toBe(false);
  });

  it('"remove the web shells" names the server path', () => {
    const out = join(tmp(), 'r.html');
    exhunt(['scan', join(dir, 'acme-Collection-MAIL01-2026-12-01.zip'), '--html', out, '-q']);
    const html = readFileSync(out, 'utf8');
    const step = html.slice(html.indexOf('Remove the web shells'));
    expect(step.slice(0, 3000)).toContain('C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx');
  });

  it('reads a server export folder and KAPE output the same way; same server name in three inputs stays three hosts', () => {
    const inputs = [join(dir, 'acme-Collection-MAIL01-2026-12-01.zip'), join(dir, 'globex-export'), join(dir, 'initech-kape')];
    const { stdout } = exhunt(['scan', ...inputs]);
    const r = scan(inputs).report;
    expect(r.hosts.map((h) => h.label)).toEqual(['acme-Collection-MAIL01-2026-12-01.zip (MAIL01)', 'globex-export (MAIL01)', 'initech-kape (MAIL01)']);
    for (const h of r.hosts.slice(1)) {
      expect(h.name).toBe('MAIL01');
      expect(shellFindings(h).map((f) => f.evidence.file)).toContain(SHELL);
      for (const rl of rules(plain)) expect(rules(h)).toContain(rl);
    }
    expect(r.hosts[2].facts.find((f) => f.kind === 'hostname' && f.origin === 'KAPE ConsoleLog')?.value).toBe('MAIL01');
    expect(r.hosts[2].findings.some((f) => /CopyLog/.test(f.source.path))).toBe(false);
    // the fleet table shows all three, each with input and server name
    for (const l of ['acme-Collection-MAIL01-2026-12-01.zip (MAIL01)', 'globex-export (MAIL01)', 'initech-kape (MAIL01)']) expect(stdout).toContain(l);
  });

  it('an encrypted container is a clear message, not a crash', () => {
    const { code, report } = scan([join(dir, 'umbrella-encrypted.zip')]);
    expect(code).toBe(4); // nothing could be read: insufficient-evidence, never 0
    const h = report.hosts[0];
    expect(h.findings).toEqual([]);
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.skipped.find((s) => s.path === 'data.zip')?.reason).toMatch(/encrypted Velociraptor collection.*velociraptor --config server\.config\.yaml unzip/);
  });

  it('result rows stand aside when the raw .evtx is in the container', async () => {
    const entries = await velociraptorEntries(MAIL01, { host: 'MAIL02', eventRows: true });
    entries.set(`uploads/auto/C%3A/Windows/System32/winevt/Logs/${sanitize('Microsoft-Windows-Sysmon%4Operational.evtx')}`, Buffer.from('not really an event log'));
    const zip = join(tmp(), 'with-evtx.zip');
    await writeZip(entries, zip);
    const h = scan([zip]).report.hosts[0];
    expect(h.findings.some((f) => f.rule === 'PX-01')).toBe(false);
    expect(h.skipped.some((s) => /result rows not read as events: the raw \.evtx/.test(s.reason))).toBe(true);
  });

  it('reads evtx_dump JSON Lines (by content, any name)', () => {
    const d = tmp();
    writeFileSync(join(d, 'Microsoft-Windows-Sysmon%4Operational.jsonl'), evtxDumpJsonl('MAIL03'));
    writeFileSync(join(d, 'notes.json'), '{"not":"an event"}\n');
    const h = scan([d]).report.hosts[0];
    const px01 = h.findings.find((f) => f.rule === 'PX-01');
    expect(px01?.source).toEqual({ path: 'Microsoft-Windows-Sysmon%4Operational.jsonl', line: 2 });
    expect(px01?.evidence.computer).toBe('MAIL03.corp.example');
    expect(h.coverage.find((c) => c.source === 'EVTX Microsoft-Windows-Sysmon/Operational')?.records).toBe(2);
  });

  it('reads JSON Lines whose first line is longer than the 64 KiB head (was neither read nor listed)', () => {
    const d = tmp();
    // A PowerShell 4104 script block at its 32 KB split (Windows cuts longer scripts there), of the backslash- and
    // quote-heavy kind Exchange scripts are: JSON escaping takes the line past the head; Velociraptor's row carries
    // the text twice (EventData and Message).
    const line = '$bin = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\"; Add-PSSnapin "Microsoft.Exchange.Management.PowerShell.SnapIn"\r\n';
    const script = line.repeat(Math.ceil(32_000 / line.length)).slice(0, 32_000);
    const system = (id: number, record: number) => ({ Provider: { '#attributes': { Name: 'Microsoft-Windows-PowerShell' } }, EventID: id, Level: 5, TimeCreated: { '#attributes': { SystemTime: '2021-03-03T10:59:00.000000Z' } }, EventRecordID: record, Channel: 'Microsoft-Windows-PowerShell/Operational', Computer: 'MAIL03.corp.example' });
    const big4104 = JSON.stringify({ Event: { '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' }, System: system(4104, 900), EventData: { MessageNumber: 1, MessageTotal: 2, ScriptBlockText: `${script}${script}`, ScriptBlockId: '6d5b2ebc-1b22-4a9c-b2c6-2c2b7f0f1d11', Path: '' } } });
    expect(big4104.length).toBeGreaterThan(64 * 1024);
    writeFileSync(join(d, 'Microsoft-Windows-Sysmon%4Operational.jsonl'), `${big4104}\n${evtxDumpJsonl('MAIL03').split('\n')[1]}\n`);
    const hunter = JSON.parse(velociraptorEventRows('MAIL03').hunter) as Record<string, unknown>;
    const bigHunter = JSON.stringify({ ...hunter, Channel: 'Microsoft-Windows-PowerShell/Operational', Provider: 'Microsoft-Windows-PowerShell', EventID: 4104, EventRecordID: 900, EventData: { MessageNumber: 1, MessageTotal: 1, ScriptBlockText: script }, Message: `Creating Scriptblock text (1 of 1):\r\n${script}` });
    expect(bigHunter.length).toBeGreaterThan(64 * 1024);
    writeFileSync(join(d, 'Windows.EventLogs.EvtxHunter.json'), `${bigHunter}\n${JSON.stringify(hunter)}\n`);
    // Minified JSON that is no event stays a plain file (not read as events, nothing listed).
    writeFileSync(join(d, 'owa-strings.json'), JSON.stringify({ strings: Array.from({ length: 4000 }, (_, i) => `string number ${i}`) }));
    const h = scan([d]).report.hosts[0];
    expect(h.findings.filter((f) => f.rule === 'PX-01' || f.rule === 'PS-08').map((f) => `${f.rule} ${f.source.path}:${f.source.line}`).sort()).toEqual([
      'PS-08 Windows.EventLogs.EvtxHunter.json:2',
      'PX-01 Microsoft-Windows-Sysmon%4Operational.jsonl:2',
    ]);
    expect(h.coverage.find((c) => c.source === 'EVTX Microsoft-Windows-PowerShell/Operational')?.records).toBe(2);
    expect(h.skipped.filter((s) => s.path === 'owa-strings.json')).toEqual([]);
  });
});

describe('--since skips old log files by modification time', () => {
  it('does not read logs last written before the window, says so, and keeps the verdict', () => {
    const d = join(tmp(), 'mail01');
    cpSync(MAIL01, d, { recursive: true });
    const logs = join(d, 'C', 'inetpub', 'logs', 'LogFiles', 'W3SVC1');
    const old = join(logs, 'u_ex200101.log');
    mkdirSync(logs, { recursive: true });
    // an attack line in a log last written in 2019: outside --since 2020-12-01, so never read
    writeFileSync(old, '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\n2019-12-31 23:00:00 10.0.0.5 POST /owa/auth/x.js - 443 - 203.0.113.9 ExchangeServicesClient/0.0.0.0 200 0 0 10\n');
    utimesSync(old, new Date('2019-12-31T23:59:00Z'), new Date('2019-12-31T23:59:00Z'));
    const h = scan([d]).report.hosts[0];
    expect(h.skipped.find((s) => s.path === 'C/inetpub/logs/LogFiles/W3SVC1/u_ex200101.log')?.reason).toMatch(/^skipped by date: last modified before --since 2020-12-01/);
    expect(h.findings.some((f) => f.source.path.endsWith('u_ex200101.log'))).toBe(false);
    expect(h.verdict).toBe('compromised');
    const all = scan([d, '--since', '2019-01-01']).report.hosts[0];
    expect(all.skipped.some((s) => /skipped by date/.test(s.reason))).toBe(false);
  });
});
