// A host whose logs were read and show nothing, beside evidence exhunt could not read at all: the responder must not
// be told `clean` when a triage zip or a disk image that may hold the attack was never opened (engine/verdict.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { gzipSync } from 'node:zlib';
import { effectiveJobs } from '../src/engine/workers.js';
import { exhunt } from './support/cli.js';
import { zipOf } from './support/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-unread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `exhunt scan` of a copy of the clean example host with `extra` files added: its one host. */
function scanWith(name: string, extra: Record<string, Buffer>) {
  const host = join(dir, name);
  cpSync(join(import.meta.dirname, '..', 'examples', 'evidence', 'mail02-clean'), host, { recursive: true });
  for (const [rel, data] of Object.entries(extra)) {
    mkdirSync(join(host, rel, '..'), { recursive: true });
    writeFileSync(join(host, rel), data);
  }
  const out = join(dir, `${name}.json`);
  exhunt(['scan', host, '--json', out]);
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

describe('evidence not read at all', () => {
  it('a damaged triage zip beside clean logs makes the host insufficient-evidence, not clean', () => {
    expect(scanWith('alone', {}).verdict).toBe('clean');
    // A zip's local-header magic, then nothing a zip reader can use.
    const h = scanWith('zip', { 'triage.zip': Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 0x41)]) });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/^no sign of an attack in what was read, but 1 image\(s\), archive\(s\) or web log\(s\) were not read at all \(see skipped for why and how to read them\): triage\.zip$/);
    expect(h.skipped).toContainEqual(expect.objectContaining({ path: 'triage.zip', unread: 'archive' }));
  });

  it('a disk image (KAPE --vhdx) beside clean logs is named and keeps the host from clean', () => {
    const vhdx = Buffer.concat([Buffer.from('vhdxfile', 'latin1'), Buffer.alloc(65536)]);
    const h = scanWith('vhdx', { 'C.vhdx': vhdx });
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toContain(': C.vhdx');
    expect(h.skipped).toContainEqual(expect.objectContaining({ path: 'C.vhdx', unread: 'image' }));
  });

  const w3svc = 'C/inetpub/logs/LogFiles/W3SVC1';
  const attack = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n2021-03-05 10:00:00 10.0.0.5 POST /owa/auth/x0d.aspx - 443 - 203.0.113.9 Mozilla/5.0 200 0 0 15\r\n';

  it('a cut triage zip one folder down, a web log that looks binary, a web-log folder behind a link: never clean', () => {
    const cut = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(1500, 0x41)]);
    expect(scanWith('subzip', { 'triage/MAIL01-kape.zip': cut }).verdict).toBe('insufficient-evidence');
    // Crash padding longer than the head: the file is named as binary, and it is a web log.
    const padded = Buffer.concat([Buffer.alloc(70 * 1024), Buffer.from(attack, 'latin1')]);
    const bin = scanWith('binlog', { [`${w3svc}/u_ex210305.log`]: padded });
    expect(bin.verdict).toBe('insufficient-evidence');
    expect(bin.skipped).toContainEqual(expect.objectContaining({ path: `${w3svc}/u_ex210305.log`, unread: 'file' }));
    const target = join(dir, 'elsewhere', 'W3SVC2');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'u_ex210305.log'), attack);
    const host = join(dir, 'symw3');
    cpSync(join(import.meta.dirname, '..', 'examples', 'evidence', 'mail02-clean'), host, { recursive: true });
    symlinkSync(target, join(host, 'C/inetpub/logs/LogFiles/W3SVC2'));
    exhunt(['scan', host, '--json', `${host}.json`]);
    expect((JSON.parse(readFileSync(`${host}.json`, 'utf8')) as ScanReport).hosts[0].verdict).toBe('insufficient-evidence');
  });

  it("an AV agent's archive in the server's own tree does not: clean, with the archive named", () => {
    const cut = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 0x41)]);
    const h = scanWith('avzip', { 'C/ProgramData/McAfee/Agent/AgentEvents/engmin.zip': cut });
    expect(h.verdict).toBe('clean');
    expect(h.reasons).toContain('1 other file(s) or folder(s) could not be read (see skipped): C/ProgramData/McAfee/Agent/AgentEvents/engmin.zip');
  });

  it("Windows' compatibility junctions copied as links are not unread evidence", () => {
    const host = join(dir, 'junctions');
    cpSync(join(import.meta.dirname, '..', 'examples', 'evidence', 'mail02-clean'), host, { recursive: true });
    mkdirSync(join(host, 'C/Users'), { recursive: true });
    symlinkSync(join(host, 'C/Users'), join(host, 'C/Documents and Settings'));
    exhunt(['scan', host, '--json', `${host}.json`]);
    const h = (JSON.parse(readFileSync(`${host}.json`, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped).toContainEqual({ path: 'C/Documents and Settings', reason: 'symbolic link: not followed' });
    expect(h.verdict).toBe('clean');
    expect(h.reasons.some((r) => r.includes('could not be read'))).toBe(false);
  });
});

describe('web logs exhunt cannot read, beside clean ones', () => {
  it('an IIS log in the comma-separated IIS format is read (no longer unread): its web shell makes the clean host compromised', () => {
    const native = '86.105.18.116, -, 3/5/2021, 8:12:01, W3SVC1, MAIL01, 10.0.0.5, 31, 100, 200, 200, 0, POST, /owa/auth/x0d.aspx, -,\r\n'.repeat(3);
    const h = scanWith('iisfmt', { 'C/inetpub/logs/LogFiles/W3SVC1/u_in210305.log': Buffer.from(native) });
    expect(h.skipped.filter((s) => s.unread !== undefined)).toEqual([]);
    expect(h.verdict).toBe('compromised');
  });

  it("a host given as a zip whose web log entry is encrypted (zip's own flag) is not clean", async () => {
    const clean = join(import.meta.dirname, '..', 'examples', 'evidence', 'mail02-clean');
    const logs = 'C/inetpub/logs/LogFiles/W3SVC1';
    const names = readdirSync(join(clean, logs));
    const zip = await zipOf(names.map((n) => ({ name: `${logs}/${n}`, data: readFileSync(join(clean, logs, n)) })));
    // Set the "encrypted" bit (general purpose flag bit 0) of the last entry, in its local and central headers.
    const central = zip.lastIndexOf(Buffer.from('PK\x01\x02', 'latin1'));
    const local = zip.readUInt32LE(central + 42);
    zip.writeUInt16LE(zip.readUInt16LE(local + 6) | 1, local + 6);
    zip.writeUInt16LE(zip.readUInt16LE(central + 8) | 1, central + 8);
    const path = join(dir, 'host-enc.zip');
    writeFileSync(path, zip);
    exhunt(['scan', path, '--json', `${path}.json`]);
    const h = (JSON.parse(readFileSync(`${path}.json`, 'utf8')) as ScanReport).hosts[0];
    expect(h.skipped).toContainEqual({ path: `${logs}/${names.at(-1)}`, reason: 'encrypted entry: cannot be read', unread: 'file' });
    expect(h.verdict).toBe('insufficient-evidence');
  });
});

describe('a compressed web log cut short', () => {
  it('keeps the findings of the part that was read, and the host is not clean', () => {
    const w3svc = 'C/inetpub/logs/LogFiles/W3SVC1';
    const head = '#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\r\n';
    const shell = '2021-03-05 10:00:00 10.0.0.5 POST /owa/auth/x0d.aspx - 443 - 203.0.113.9 Mozilla/5.0 200 0 0 15\r\n';
    // Lines that do not compress to nothing (each its own request id), so that 60 % of the gzip is most of them.
    const benign = Array.from({ length: 20000 }, (_, i) => `2021-03-05 10:${String(i % 60).padStart(2, '0')}:00 10.0.0.5 GET /owa/ req=${(i * 2654435761) % 4294967296} 443 - 10.0.0.${i % 250} Mozilla/5.0 200 0 0 ${i % 97}\r\n`).join('');
    const gz = gzipSync(Buffer.from(head + shell + benign, 'latin1'));
    const h = scanWith('gzcut', { [`${w3svc}/u_ex210305.log.gz`]: gz.subarray(0, Math.floor(gz.length * 0.6)) });
    expect(h.findings.map((f) => `${f.rule} ${f.source.line}`)).toContain('WS-40 3');
    expect(h.verdict).toBe('compromised');
    expect(h.skipped).toContainEqual(expect.objectContaining({ path: `${w3svc}/u_ex210305.log.gz`, reason: expect.stringMatching(/^reading stopped after the first \d+ lines \(\d+ bytes decompressed\): .*the data ends early or is damaged/) }));
  });
});

describe('the same report with any --jobs', () => {
  it("facts are taken in the files' order, not the order the lanes finish", (ctx) => {
    // --jobs 2 starts a worker beside this thread only with two cores and 1 GiB of memory: else both runs are one.
    ctx.skip(effectiveJobs(2) !== 2, 'one core or < 1 GiB: --jobs 2 starts no worker');
    const fixtures = join(import.meta.dirname, 'fixtures', 'exchange-config');
    const report = (jobs: string) => {
      const out = join(dir, `jobs${jobs}.json`);
      exhunt(['scan', fixtures, '--jobs', jobs, '--json', out]);
      return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts.map((h) => ({ ...h, stats: { ...h.stats, seconds: 0 } }));
    };
    expect(report('2')).toEqual(report('1'));
  });
});
