import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import yazl from 'yazl';
import { describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';
import { external, needExternal } from './support/external.js';
import { needYara } from './support/yara.js';

const HC = 'helsecert-2021-march-exchange/extracted'; // no licence: not vendored, needExternal skips without it
const QZ = external('Qazeer-artefacts.help/extracted'); // vendored (CC0)
const MAIL01 = 'examples/evidence/mail01-compromised';
const schema = JSON.parse(readFileSync('schema/exhunt.scan-1.schema.json', 'utf8'));
// ajv's CommonJS default export under NodeNext typing
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validate = ajv.compile(schema);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'exhunt-cli-'));
}

function scanJson(args: string[]): { code: number | null; report: ScanReport; stdout: string; stderr: string } {
  const out = join(tmp(), 'r.json');
  const r = exhunt(['scan', ...args, '--json', out]);
  return { ...r, report: JSON.parse(readFileSync(out, 'utf8')) as ScanReport };
}

/** sha256 + mtime of every file below a folder, to prove a scan wrote nothing. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mtimeMs} ${statSync(p).atimeMs}`;
    }
  };
  walk(root);
  return out;
}

describe('exhunt scan (end to end)', () => {
  it('finds the real HelseCERT chain, exits 1, and writes a report that matches the JSON Schema', (ctx) => {
    const { code, report, stdout } = scanJson([needExternal(ctx, HC)]);
    expect(code).toBe(1);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const h = report.hosts[0];
    expect(h.name).toBe('extracted');
    expect(h.verdict).toBe('compromised');
    const counts = Object.fromEntries(['PL-02', 'PL-03', 'PL-22', 'PL-23'].map((r) => [r, h.findings.filter((f) => f.rule === r).length]));
    expect(counts).toEqual({ 'PL-02': 8, 'PL-03': 2, 'PL-22': 2, 'PL-23': 1 });
    const first = h.findings.find((f) => f.rule === 'PL-03')!;
    expect(first.source).toEqual({ path: 'httpproxy_ecp_Test-ProxyLogon_CVE-2021-26855_selected_columns.csv', line: 3 });
    expect(h.findings.map((f) => f.id)).toEqual(h.findings.map((_, i) => `F${String(i + 1).padStart(4, '0')}`));
    expect(stdout).toMatch(/COMPROMISED/);
    expect(stdout).toMatch(/CVE-2021-26855 \d+/);
  });

  it('uses worker threads and a single thread to the same result', () => {
    const a = scanJson([MAIL01, QZ, '--jobs', '1']).report;
    const b = scanJson([MAIL01, QZ, '--jobs', '2']).report;
    expect(a.hosts[0].findings.length).toBeGreaterThan(10);
    expect(b.hosts.map((h) => h.findings)).toEqual(a.hosts.map((h) => h.findings));
    expect(b.hosts.map((h) => h.coverage)).toEqual(a.hosts.map((h) => h.coverage));
  });

  it('keeps argument order, names hosts from the evidence, and says benign recent logs are not proof of clean', (ctx) => {
    const { code, report } = scanJson([QZ, needExternal(ctx, HC)]);
    expect(code).toBe(1);
    expect(report.hosts.map((h) => h.name)).toEqual(['SERVER-HOSTNAME', 'extracted']);
    // Only the build exposure: 15.01.2375.007 (Exchange 2016 CU22) lacks the November 2022 fix.
    expect(report.hosts[0].findings.map((f) => [f.rule, f.kind])).toEqual([['EXP-01', 'exposure']]);
    expect(report.hosts[0].findings[0].cves).toContain('CVE-2022-41040');
    expect(report.hosts[0].verdict).toBe('insufficient-evidence');
    expect(report.hosts[0].facts).toContainEqual(expect.objectContaining({ kind: 'build', value: '15.01.2375.007', origin: '#Version' }));
  });

  it('writes Test-ProxyLogon-shaped CSV files, with spreadsheet formulas neutralised', (ctx) => {
    const dir = tmp();
    const host = tmp();
    cpSync(needExternal(ctx, HC), host, { recursive: true });
    // An attacker-chosen user agent that a spreadsheet would run as a formula.
    const csv = join(host, 'httpproxy_ecp_Test-ProxyLogon_CVE-2021-26855_selected_columns.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('"python-requests/2.25.1","ServerInfo~a]@servernavn.xxx.local:444/ecp/proxyLogon.ecp', '"=HYPERLINK(""http://x"")","ServerInfo~a]@servernavn.xxx.local:444/ecp/proxyLogon.ecp'));
    expect(exhunt(['scan', host, '--csv', dir, '-q']).code).toBe(1);
    const name = readdirSync(dir).find((f) => f.endsWith('-Cve-2021-26855.csv'))!;
    const lines = readFileSync(join(dir, name), 'utf8').trim().split('\r\n');
    expect(lines[0]).toBe('"DateTime","RequestId","ClientIPAddress","UrlHost","UrlStem","RoutingHint","UserAgent","AnchorMailbox","HttpStatus"');
    expect(lines).toHaveLength(10); // 8 back-end SSRF rows + the vdir reset; autodiscover rows excluded as Test-ProxyLogon does
    expect(lines.some((l) => l.includes(`"'=HYPERLINK(""http://x"")"`))).toBe(true);
    const log = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('-Cve-2021-27065.log'))!), 'utf8').trim().split('\r\n');
    expect(log).toHaveLength(2);
    expect(readdirSync(dir)).toContain('exhunt-findings.csv');
  });

  it('reads a triage zip in place, with paths relative to the zip', async (ctx) => {
    const hc = needExternal(ctx, HC);
    const zip = join(tmp(), 'mail01.zip');
    const z = new yazl.ZipFile();
    for (const f of readdirSync(hc)) z.addFile(join(hc, f), `Logging/${f}`);
    z.end();
    await new Promise<void>((res) => z.outputStream.pipe(createWriteStream(zip)).on('close', () => res()));
    const { report } = scanJson([zip]);
    const h = report.hosts[0];
    expect(h.name).toBe('mail01');
    expect(h.findings.filter((f) => f.rule === 'PL-22').map((f) => f.source)).toEqual([
      { path: 'Logging/ecpserver_ECPServer20210303-1_CVE-2021-27065_selected_fields.log', line: 7 },
      { path: 'Logging/ecpserver_ECPServer20210303-1_CVE-2021-27065_selected_fields.log', line: 19 },
    ]);
  });

  it('never writes to the evidence', () => {
    const host = tmp();
    cpSync(MAIL01, host, { recursive: true });
    const before = snapshot(host);
    exhunt(['scan', host, '--csv', join(tmp(), 'csv'), '-q']);
    expect(snapshot(host)).toEqual(before);
  });

  it('reads a single file given as the host input', (ctx) => {
    const { report } = scanJson([needExternal(ctx, `${HC}/ecpserver_ECPServer20210303-1_CVE-2021-27065_selected_fields.log`)]);
    expect(report.hosts[0].findings.filter((f) => f.rule === 'PL-22')).toHaveLength(2);
    expect(report.hosts[0].skipped[0]).toMatchObject({ line: 3, reason: expect.stringContaining('does not start with a timestamp') });
  });

  it('fails usage errors with exit 2 and one line, no stack trace', () => {
    for (const args of [['scan', '/no/such/evidence'], ['scan', QZ, '--since', 'yesterday'], ['scan', QZ, '--jobs', '0'], ['scan']]) {
      const r = exhunt(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().length).toBeGreaterThan(0);
    }
    expect(exhunt(['scan', '/no/such/evidence']).stderr).toMatch(/no such file or folder: \/no\/such\/evidence/);
  });

  it('exits 4, not 0, when there is nothing to judge (review10 R11: no evidence is not "fine")', () => {
    const empty = tmp();
    writeFileSync(join(empty, 'readme.txt'), 'nothing here');
    const { code, report } = scanJson([empty]);
    expect(code).toBe(4);
    expect(report.hosts[0].verdict).toBe('insufficient-evidence');
    expect(report.hosts[0].stats.files_seen).toBe(1);
    expect(report.hosts[0].findings).toEqual([]);
  });
  it("applies the user's --ioc IPs to HttpProxy logs, one finding per IP and file", () => {
    const host = tmp();
    const src = readFileSync(`${QZ}/Owa__HttpProxy_2023010602-1.LOG`, 'utf8').split(/\r?\n/);
    const row = src.find((l) => l.startsWith('2023-'))!;
    const mine = row.replace(',95.5.6.7,SERVER_HOSTNAME,', ',198.51.100.7,SERVER_HOSTNAME,');
    expect(mine).toContain(',198.51.100.7,');
    writeFileSync(join(host, 'HttpProxy_2023010602-1.LOG'), [...src.filter((l) => l.startsWith('#')), mine, mine, mine, row].join('\r\n') + '\r\n');
    const iocFile = join(tmp(), 'mine.csv');
    writeFileSync(iocFile, 'type,value,comment\nip,198.51.100.7,actor seen in our VPN logs\nbogus,x\n');
    const out = join(tmp(), 'r.json');
    const r = exhunt(['scan', host, '--ioc', iocFile, '--json', out, '-q']);
    expect(r.stderr).toContain('mine.csv:3: unknown IOC type "bogus"');
    const ioc = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0].findings.filter((f) => f.kind === 'ioc');
    expect(ioc).toHaveLength(1);
    expect(ioc[0]).toMatchObject({ client_ip: '198.51.100.7', evidence: { count: 3, lines: [6, 7, 8] } });
    expect(exhunt(['scan', host, '-q']).stdout + '').not.toContain('198.51.100.7');
  });

  it('rejects an unreadable --ioc file with exit 2 and one line', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'stix.json'), '{"type":"bundle","objects":[');
    const i = exhunt(['scan', QZ, '--ioc', join(dir, 'stix.json'), '-q']);
    expect(i.code).toBe(2);
    expect(i.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects YARA rules that do not compile, once, with exit 2', (ctx) => {
    needYara(ctx);
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yar'), 'rule { nope');
    const y = exhunt(['scan', QZ, '--yara', join(dir, 'bad.yar'), '-q']);
    expect(y.code).toBe(2);
    expect(y.stderr).toMatch(/^exhunt: --yara: rules do not compile/);
    expect(y.stderr.trim().split('\n')).toHaveLength(1);
  });
});

