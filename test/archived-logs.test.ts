// Logs an admin compressed in place. On real Exchange servers IIS and HttpProxy logs fill the system drive, so
// clean-up scripts gzip or zip the older ones beside the live files (`u_ex210305.log.gz`, `W3SVC1\2021-03.zip`);
// those older files hold the attack window. Evidence: the shipped mail01 example (HelseCERT's published 2021
// ProxyLogon values padded into full-format logs, examples/README.md), its logs compressed as such a script would,
// scanned through the CLI: the verdict, the findings and the coverage must be those of the uncompressed copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipOf } from './support/zip.js';
import type { HostResult, ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const MAIL01 = 'examples/evidence/mail01-compromised';
const W3SVC1 = 'C/inetpub/logs/LogFiles/W3SVC1';
const ECP_PROXY = 'C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Ecp';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-archived-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scanJson(path: string, name: string): HostResult {
  const out = join(dir, `${name}.json`);
  const r = exhunt(['scan', path, '--json', out, '--jobs', '1']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(1);
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

/** What must not change when logs are compressed: rule, time and the file name's day (path differs by archive). */
const shape = (h: HostResult) => h.findings.map((f) => `${f.rule} ${f.time} ${f.severity}`).sort();

let plain: HostResult;
let archived: HostResult;
let archivedDir: string;

beforeAll(async () => {
  archivedDir = join(dir, 'mail01');
  cpSync(MAIL01, archivedDir, { recursive: true });
  // IIS: March 1-7 gzipped one by one (u_ex210301.log.gz ...), the 8th-10th left as they are.
  const iis = join(archivedDir, W3SVC1);
  for (const name of readdirSync(iis).filter((n) => /^u_ex21030[1-7]\.log$/.test(n))) {
    writeFileSync(join(iis, `${name}.gz`), gzipSync(readFileSync(join(iis, name))));
    unlinkSync(join(iis, name));
  }
  // HttpProxy\Ecp: the March files zipped into one monthly archive, with a nested archive the scan cannot open.
  const ecp = join(archivedDir, ECP_PROXY);
  const march = readdirSync(ecp).filter((n) => /^HttpProxy_202103/.test(n));
  const entries: Array<{ name: string; data: Buffer }> = march.map((n) => ({ name: n, data: readFileSync(join(ecp, n)) }));
  entries.push({ name: 'older/HttpProxy_2021-02.zip', data: await zipOf([{ name: 'x.LOG', data: Buffer.from('#Software: Microsoft Exchange Server\r\n') }]) });
  writeFileSync(join(ecp, 'HttpProxy_2021-03.zip'), await zipOf(entries));
  for (const n of march) unlinkSync(join(ecp, n));
  plain = scanJson(MAIL01, 'plain');
  archived = scanJson(archivedDir, 'archived');
}, 240_000);

describe('logs compressed in place by a clean-up script', () => {
  it('are read: same verdict, same findings, same coverage as the uncompressed copy', () => {
    expect(plain.verdict).toBe('compromised');
    expect(archived.verdict).toBe('compromised');
    expect(shape(archived)).toEqual(shape(plain));
    const cov = (h: HostResult) => h.coverage.map((c) => `${c.source} ${c.first} ${c.last} ${c.records}`);
    expect(cov(archived)).toEqual(cov(plain));
  });

  it('names the archive in each finding it came from', () => {
    const paths = new Set(archived.findings.map((f) => f.source.path));
    // The HelseCERT SSRF rows of 2021-03-03 (HttpProxy\Ecp) and the web-shell GETs of 2021-03-05 (IIS).
    expect(paths).toContain(`${ECP_PROXY}/HttpProxy_2021-03.zip/HttpProxy_2021030306-1.LOG`);
    expect(paths).toContain(`${W3SVC1}/u_ex210305.log.gz`);
    const shell = archived.findings.find((f) => f.source.path === `${W3SVC1}/u_ex210305.log.gz` && f.rule === 'WS-40');
    expect(shell?.evidence.url ?? JSON.stringify(shell?.evidence)).toContain('RedirSuiteServerProxy.aspx');
  });

  it('says which archive inside an archive was not opened', () => {
    expect(archived.skipped).toContainEqual({
      path: `${ECP_PROXY}/HttpProxy_2021-03.zip/older/HttpProxy_2021-02.zip`,
      reason: 'archive inside an archive: not opened (extract it and scan the folder)',
      unread: 'archive',
    });
    expect(plain.skipped.some((s) => s.path.endsWith('.zip'))).toBe(false);
  });
});

describe('a hostile .gz', () => {
  it('a .gz that is no log (a staged dump) is swept as it is on disk: its own SHA-256 and size', () => {
    const host = join(dir, 'staged');
    cpSync(join(MAIL01, W3SVC1), join(host, 'W3SVC1'), { recursive: true });
    const gz = gzipSync(Buffer.from('mailbox export\r\n'.repeat(64)));
    mkdirSync(join(host, 'inetpub', 'wwwroot', 'aspnet_client'), { recursive: true });
    writeFileSync(join(host, 'inetpub', 'wwwroot', 'aspnet_client', 'dump.gz'), gz);
    const h = scanJson(host, 'staged');
    const staged = h.findings.filter((f) => f.source.path.endsWith('dump.gz'));
    expect(staged.length).toBeGreaterThan(0);
    for (const f of staged) expect(f.evidence.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
  });

  it('a gzip bomb is stopped and named; the other logs are still read', () => {
    const host = join(dir, 'bomb');
    cpSync(join(MAIL01, W3SVC1), join(host, 'W3SVC1'), { recursive: true });
    // 200 MiB of one byte compresses to ~200 KB: over 200:1 past the 64 MiB floor.
    writeFileSync(join(host, 'W3SVC1', 'u_ex210311.log.gz'), gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x41), { level: 9 }));
    writeFileSync(join(host, 'W3SVC1', 'u_ex210312.log.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    const h = scanJson(host, 'bomb');
    expect(h.verdict).toBe('compromised');
    const why = (p: string) => h.skipped.filter((s) => s.path === `W3SVC1/${p}`).map((s) => s.reason).join(' | ');
    expect(why('u_ex210311.log.gz')).toMatch(/inflates to more than 200× its size \(gzip bomb\?\)/);
    expect(why('u_ex210312.log.gz')).toMatch(/unexpected end of file|incorrect header|invalid/i);
  });
});
