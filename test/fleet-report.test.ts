// `exhunt report` end to end: results of separate runs combined, the same host twice kept once (newest, with a
// note), and the same actor found on hosts of two customers through the cross-host pivots.
import { mkdtempSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../src/report/fleet-report.js';
import { exhunt } from './support/cli.js';
import { velociraptorZip } from './support/collections.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'exhunt-fleet-'));

describe('exhunt report', () => {
  let dir: string;
  let fleet: FleetReport;
  let stdout: string;
  beforeAll(async () => {
    dir = tmp();
    // Customer A: a Velociraptor collection of MAIL01; customer B: a folder copy of the same compromised server
    // (same actor, same shell) plus a clean and a scanned server, scanned in two runs; then A rescanned.
    await velociraptorZip('examples/evidence/mail01-compromised', join(dir, 'acme-mail01.zip'), { host: 'MAIL01' });
    cpSync('examples/evidence/mail01-compromised', join(dir, 'globex', 'mail01'), { recursive: true });
    expect(exhunt(['scan', join(dir, 'acme-mail01.zip'), '-q', '--json', join(dir, 'run1.json')]).code).toBe(1);
    expect(exhunt(['scan', join(dir, 'globex', 'mail01'), 'examples/evidence/mail02-clean', 'examples/evidence/mail03-scanned', '-q', '--json', join(dir, 'run2.json')]).code).toBe(1);
    expect(exhunt(['scan', join(dir, 'acme-mail01.zip'), '-q', '--json', join(dir, 'run3.json')]).code).toBe(1);
    const r = exhunt(['report', join(dir, 'run1.json'), join(dir, 'run2.json'), join(dir, 'run3.json'), '--json', join(dir, 'fleet.json'), '--csv', join(dir, 'csv'), '--ndjson', join(dir, 'fleet.ndjson'), '--html', join(dir, 'fleet.html')]);
    expect(r.code, r.stderr).toBe(1);
    stdout = r.stdout;
    fleet = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as FleetReport;
  }, 120_000);

  it('keeps hosts apart by label and the same host once, newest scan, with a note', () => {
    expect(fleet.schema).toBe('exhunt.fleet/1');
    expect(fleet.hosts.map((h) => [h.label, h.verdict])).toEqual([
      ['acme-mail01.zip (MAIL01)', 'compromised'],
      ['mail01 (MAIL01)', 'compromised'],
      ['mail02-clean (MAIL02)', 'clean'],
      ['mail03-scanned (MAIL03)', 'attempted'],
    ]);
    expect(fleet.hosts[0].result_file).toBe(join(dir, 'run3.json'));
    expect(fleet.notes).toHaveLength(1);
    expect(fleet.notes[0]).toMatch(/^acme-mail01\.zip \(MAIL01\) was scanned more than once: kept the scan of .* \(run3\.json\), not .* \(run1\.json\)$/);
    expect(fleet.totals).toEqual({ compromised: 2, attempted: 1, suspicious: 0, clean: 1, 'insufficient-evidence': 0 });
    const h = fleet.hosts[1];
    expect(h.stage).toBe('persistence');
    expect(h.build).toBe('15.1.2176.2');
    expect(h.first_attack! < h.last_attack!).toBe(true);
  });

  it('links the two customers through attacker IP, shell hash and shell name, with first and last sighting', () => {
    const both = ['acme-mail01.zip (MAIL01)', 'mail01 (MAIL01)'];
    const by = (p: string) => fleet.campaigns.filter((c) => c.pivot === p);
    expect(by('shell-hash').length).toBeGreaterThan(0);
    expect(by('shell-hash')[0].hosts).toEqual(both);
    expect(by('shell-name').map((c) => c.value)).toContain('xha6boc8.aspx');
    expect(by('shell-name-pattern').map((c) => c.value)).toContain('8 random letters and digits .aspx');
    const ips = by('ip');
    expect(ips.length).toBeGreaterThan(0);
    for (const c of ips) {
      expect(c.hosts).toEqual(both);
      expect(c.first! <= c.last!).toBe(true);
    }
    // the scanned server's scanner traffic links nothing; the clean one is in no campaign
    expect(fleet.campaigns.some((c) => c.hosts.some((x) => /MAIL0[23]/.test(x)))).toBe(false);
    expect(stdout).toContain('Seen on several hosts:');
    expect(stdout).toMatch(/4 hosts: 2 compromised, 1 attempted, 1 clean; \d+ cross-host indicators/);
  });

  it('writes CSV, NDJSON and HTML; --summary prints only non-clean hosts and the totals', () => {
    const csv = readFileSync(join(dir, 'csv', 'fleet-hosts.csv'), 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(5);
    expect(csv[1]).toMatch(/^"acme-mail01\.zip \(MAIL01\)","MAIL01","compromised"/);
    const camps = readFileSync(join(dir, 'csv', 'fleet-campaigns.csv'), 'utf8').trim().split('\r\n');
    expect(camps.length).toBe(fleet.campaigns.length + 1);
    const nd = readFileSync(join(dir, 'fleet.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(nd.filter((l) => l.type === 'host')).toHaveLength(4);
    expect(nd.filter((l) => l.type === 'campaign')).toHaveLength(fleet.campaigns.length);
    expect(readFileSync(join(dir, 'fleet.html'), 'utf8')).toContain('id="fleet-data"');
    const s = exhunt(['report', join(dir, 'run2.json'), '--summary']);
    expect(s.code).toBe(1);
    expect(s.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^compromised\s+mail01 \(MAIL01\)  persistence  2021-03-03/),
      expect.stringMatching(/^attempted\s+mail03-scanned \(MAIL03\)  scanned/),
      '3 hosts: 1 compromised, 1 attempted, 1 clean; 0 cross-host indicators',
    ]);
  });

  it('rejects a file that is not a scan result, naming it', () => {
    const r = exhunt(['report', join(dir, 'fleet.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`exhunt: ${join(dir, 'fleet.json')}: not an exhunt scan result (schema exhunt.scan/1; write one with exhunt scan --json FILE)\n`);
  });
});
