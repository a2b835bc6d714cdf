// End to end over the example evidence: a compromised host, a scanned-only host, a clean host and a host with no
// logs get four different verdicts; the reports built from the real scan are valid (JSON Schema, ECS types).
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import yazl from 'yazl';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostResult, ScanReport } from '../src/model.js';
import { renderNdjson } from '../src/report/ndjson.js';
import { exhunt } from './support/cli.js';
import { validateEcs } from './support/ecs.js';
import { EXAMPLES, EXPECTED, scanExamples } from './support/examples.js';


const schema = JSON.parse(readFileSync('schema/exhunt.scan-1.schema.json', 'utf8'));
// ajv's CommonJS default export under NodeNext typing
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validateReport = ajv.compile(schema);

describe('four example hosts, four verdicts (engine + correlation + reports)', () => {
  let rep: ScanReport;
  const byInput = (name: string): HostResult => rep.hosts.find((h) => h.inputs[0].endsWith(name)) as HostResult;

  beforeAll(async () => {
    rep = await scanExamples();
  });

  it('gives each host its verdict', () => {
    expect(rep.hosts.map((h) => h.verdict)).toEqual(EXPECTED);
    expect(byInput('mail03-scanned').reasons[0]).toMatch(/^scanner probes only \(\d+\); nothing shows they got in$/);
    expect(byInput('mail04-nologs').reasons[0]).toBe('no sign of an attack, but that proves little: no readable logs in the evidence');
    expect(byInput('mail04-nologs').reasons[1]).toMatch(/^to decide it: add the HttpProxy logs .* from 2020-12-01 on/);
  });

  it('joins the ProxyLogon chain across HttpProxy, ECP and the OAB generator into one incident from the attacker', () => {
    const h = byInput('mail01-compromised');
    const chain = h.incidents?.find((i) => i.client_ips.includes('130.255.189.21'));
    expect(chain?.sources).toEqual(expect.arrayContaining(['HttpProxy', 'ECP', 'OABGenerator']));
    expect(['exploited', 'persistence', 'post-exploitation']).toContain(chain?.stage);
    expect(chain?.keys.ecp_canaries.length).toBeGreaterThan(0);
    // The scanner that also visited this host is not part of the attack.
    const scanner = h.incidents?.find((i) => i.stage === 'scanned');
    expect(scanner?.client_ips).not.toContain('130.255.189.21');
    expect(byInput('mail03-scanned').incidents?.map((i) => i.stage)).toEqual(['scanned']);
    expect(byInput('mail02-clean').stage).toBe('none');
  });

  it('writes a JSON report (with incidents and timeline) that matches the schema', () => {
    const json = JSON.parse(JSON.stringify(rep)) as ScanReport;
    expect(validateReport(json), JSON.stringify(validateReport.errors)).toBe(true);
    expect(json.hosts[0].timeline?.length).toBeGreaterThan(0);
  });

  it('writes NDJSON whose every line has the ECS field types', () => {
    const out = renderNdjson(rep);
    expect(out.split('\n').filter((l) => l).length).toBe(rep.hosts.reduce((n, h) => n + h.findings.length, 0));
    expect(validateEcs(out)).toEqual([]);
  });
});

async function zipFolder(dir: string, zipPath: string): Promise<void> {
  const z = new yazl.ZipFile();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else z.addFile(p, relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  z.end();
  await new Promise<void>((res) => z.outputStream.pipe(createWriteStream(zipPath)).on('close', () => res()));
}

describe('exhunt scan --hosts-from (CLI, built)', () => {
  it('scans each subfolder and zip as a host in sorted order, prints the fleet table, writes HTML and NDJSON', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exhunt-fleet-'));
    const fleet = join(root, 'fleet');
    mkdirSync(fleet);
    cpSync(EXAMPLES[0], join(fleet, 'a-mail01'), { recursive: true });
    await zipFolder(EXAMPLES[1], join(fleet, 'b-mail02.zip'));
    cpSync(EXAMPLES[2], join(fleet, 'c-mail03'), { recursive: true });
    mkdirSync(join(fleet, 'd-mail04'));
    mkdirSync(join(fleet, '.hidden'));
    const out = (f: string) => join(root, f);
    const r = exhunt(['scan', '--hosts-from', fleet, '--html', out('r.html'), '--ndjson', out('r.ndjson'), '--json', out('r.json'), '-j', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(out('r.json'), 'utf8')) as ScanReport;
    expect(report.hosts.map((h) => relative(fleet, h.inputs[0]))).toEqual(['a-mail01', 'b-mail02.zip', 'c-mail03', 'd-mail04']);
    expect(report.hosts.map((h) => h.verdict)).toEqual(EXPECTED);
    expect(report.hosts.every((h) => Array.isArray(h.incidents) && h.stage !== undefined)).toBe(true);
    expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
    const table = r.stdout.slice(r.stdout.lastIndexOf('HOST '));
    expect(table.split('\n').slice(1, 5).map((l) => l.split(/\s{2,}/)[1])).toEqual(['compromised', 'attempted', 'insufficient-evidence', 'clean']);
    expect(table).toContain('4 hosts: 1 compromised, 1 attempted, 1 clean, 1 insufficient-evidence');
    const html = readFileSync(out('r.html'), 'utf8');
    expect(html.match(/<div class="verdict" data-verdict="[a-z-]+">/g)).toHaveLength(4);
    expect(validateEcs(readFileSync(out('r.ndjson'), 'utf8'))).toEqual([]);
  });

  it('refuses a scan with neither PATH nor --hosts-from, and an empty hosts folder', () => {
    expect(exhunt(['scan'])).toMatchObject({ code: 2, stderr: 'exhunt: scan: give at least one PATH, or --hosts-from DIR\n' });
    const empty = mkdtempSync(join(tmpdir(), 'exhunt-empty-'));
    expect(exhunt(['scan', '--hosts-from', empty]).stderr).toBe(`exhunt: --hosts-from: no host folders or files in ${empty}\n`);
  });

  // review10 R6: EXCH01 at two customers. Every fleet output named hosts by server name only (terminal blocks, CSV
  // file names MAIL01-2-other.csv, the `host` column, NDJSON event.id, STIX identities): which evidence set held the
  // criticals was lost, and two hosts' STIX identities and sightings shared one id.
  it('tells hosts with the same server name apart in every output: by their evidence folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'exhunt-samename-'));
    const fleet = join(root, 'fleet');
    for (const c of ['acme', 'globex', 'mail01']) cpSync(EXAMPLES[0], join(fleet, c), { recursive: true });
    const out = (f: string) => join(root, f);
    const r = exhunt(['scan', '--hosts-from', fleet, '-j', '1', '--csv', out('csv'), '--ndjson', out('r.ndjson'), '--stix', out('r.stix.json'), '--timesketch', out('r.jsonl'), '--json', out('r.json')]);
    expect(r.code).toBe(1);
    const headings = r.stdout.split('\n').filter((l) => / {2}COMPROMISED {2}/.test(l)).map((l) => l.split('  ')[0]);
    // A folder named like its server adds nothing: the server name alone.
    expect(headings).toEqual(['acme (MAIL01)', 'globex (MAIL01)', 'MAIL01']);
    const files = readdirSync(out('csv'));
    for (const base of ['acme_MAIL01', 'globex_MAIL01', 'MAIL01']) expect(files).toContain(`${base}-Cve-2021-26855.csv`);
    expect(files.filter((f) => f.endsWith('-Cve-2021-26855.csv'))).toHaveLength(3);
    const report = JSON.parse(readFileSync(out('r.json'), 'utf8')) as ScanReport;
    const rows = readFileSync(join(out('csv'), 'exhunt-findings.csv'), 'utf8').trimEnd().split('\r\n');
    expect(rows[0].startsWith('"host","host_label","id",')).toBe(true);
    for (const h of report.hosts) expect(rows.filter((l) => l.startsWith(`"MAIL01","${h.label}",`)), h.label).toHaveLength(h.findings.length);
    const docs = readFileSync(out('r.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(docs.map((d) => d.event.id)).size).toBe(docs.length);
    expect(new Set(docs.map((d) => d.exhunt.host_label))).toEqual(new Set(['acme (MAIL01)', 'globex (MAIL01)', 'mail01 (MAIL01)']));
    const bundle = JSON.parse(readFileSync(out('r.stix.json'), 'utf8')) as { objects: Array<{ id: string; type: string; name?: string }> };
    expect(new Set(bundle.objects.map((o) => o.id)).size).toBe(bundle.objects.length);
    expect(bundle.objects.filter((o) => o.type === 'identity' && o.name !== 'exhunt').map((o) => o.name)).toEqual(['acme (MAIL01)', 'globex (MAIL01)', 'MAIL01']);
    const sketch = readFileSync(out('r.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(sketch.map((l) => l.host_label)).size).toBe(3);
  });

  // review10 R9: a client's .7z / .tar.gz / .rar / disk image of a server, a lone log and a symlinked case folder were
  // dropped without a word. Each entry is now a host: archives and images are named unread (insufficient-evidence),
  // a lone log is read, a link is followed; only what is neither file nor folder is left out, and said on stderr.
  it('takes every entry of DIR as a host: archives and images unread, a lone log read, symlinked folders followed', () => {
    const root = mkdtempSync(join(tmpdir(), 'exhunt-fleet3-'));
    const fleet = join(root, 'fleet');
    const elsewhere = join(root, 'cases', 'mail01');
    mkdirSync(fleet);
    cpSync(EXAMPLES[0], elsewhere, { recursive: true });
    cpSync(EXAMPLES[0], join(fleet, 'a'), { recursive: true });
    const iis = join(EXAMPLES[0], 'C/inetpub/logs/LogFiles/W3SVC1');
    const log = readdirSync(iis).find((f) => f.endsWith('.log'))!;
    cpSync(join(iis, log), join(fleet, 'd.log'));
    // Archive and image headers as their formats define them (7z signature, gzip magic, RAR 5, VHDX "vhdxfile").
    writeFileSync(join(fleet, 'c.7z'), Buffer.from('377abcaf271c000400000000', 'hex'));
    writeFileSync(join(fleet, 'b.tar.gz'), Buffer.from('1f8b0800000000000003', 'hex'));
    writeFileSync(join(fleet, 'g.rar'), Buffer.from('526172211a070100', 'hex'));
    writeFileSync(join(fleet, 'h.vhdx'), Buffer.from('vhdxfile'));
    symlinkSync(elsewhere, join(fleet, 'link-host'));
    symlinkSync(join(root, 'nowhere'), join(fleet, 'broken'));
    const r = exhunt(['scan', '--hosts-from', fleet, '-q', '--json', join(root, 'r.json'), '-j', '1']);
    expect(r.stderr).toBe(`exhunt: --hosts-from: ${join(fleet, 'broken')} is a link to nothing readable: not scanned\n`);
    const report = JSON.parse(readFileSync(join(root, 'r.json'), 'utf8')) as ScanReport;
    const byEntry = Object.fromEntries(report.hosts.map((h) => [h.inputs[0].startsWith(fleet) ? relative(fleet, h.inputs[0]) : h.inputs[0], h]));
    expect(Object.keys(byEntry).sort()).toEqual(['a', 'b.tar.gz', 'c.7z', 'd.log', 'g.rar', 'h.vhdx', elsewhere].sort());
    expect(byEntry.a.verdict).toBe('compromised');
    expect(byEntry[elsewhere].verdict).toBe('compromised');
    // Named by the link, not by its target: a fleet folder of links named per customer keeps those names.
    expect(byEntry[elsewhere].label).toBe('link-host (MAIL01)');
    expect(byEntry['d.log'].coverage.length).toBeGreaterThan(0);
    for (const f of ['b.tar.gz', 'c.7z', 'g.rar', 'h.vhdx']) {
      expect(byEntry[f].verdict, f).toBe('insufficient-evidence');
      expect(byEntry[f].skipped.map((s) => s.path), f).toEqual([f]);
    }
  });
});
