// A host whose logs were read and show nothing, beside evidence exhunt could not read at all: the responder must not
// be told `clean` when a triage zip or a disk image that may hold the attack was never opened (engine/verdict.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-unread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `exhunt scan` of a copy of the clean example host with `extra` files added: its one host. */
function scanWith(name: string, extra: Record<string, Buffer>) {
  const host = join(dir, name);
  cpSync(join(import.meta.dirname, '..', 'examples', 'evidence', 'mail02-clean'), host, { recursive: true });
  for (const [rel, data] of Object.entries(extra)) writeFileSync(join(host, rel), data);
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
});
