// Evidence that arrives as a container exhunt cannot open: KAPE's `--vhdx` target output (and the zip `--zv` makes
// of it), forensic images (E01, raw dd), and 7z/RAR/tar archives of logs. Their logs are unread, so each must be
// named in `skipped` with what to do, never counted as a swept file in silence. Headers are the published magics:
// VHDX "vhdxfile" file type identifier (MS-VHDX 2.2.1), VHD "conectix" footer (Microsoft VHD spec; fixed disks
// have it only at the end), EWF "EVF\x09\x0d\x0a\xff\x00" (libewf), 7z "7z\xbc\xaf'\x1c", tar "ustar" at 257,
// NTFS boot sector OEM id "NTFS    " at 3.
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipOf } from './support/zip.js';
import type { ScanReport } from '../src/model.js';
import { containerReason, zipEntryContainerReason } from '../src/evidence/containers.js';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-containers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const vhdx = Buffer.concat([latin1('vhdxfile'), Buffer.from('Microsoft Windows 10.0.17763.0', 'utf16le'), Buffer.alloc(65536)]);
const fixedVhd = Buffer.concat([Buffer.alloc(8192), latin1('conectix'), Buffer.alloc(504)]);
const e01 = Buffer.concat([latin1('EVF\x09\x0d\x0a\xff\x00\x01\x01\x00\x00'), Buffer.alloc(4096)]);
const sevenZ = Buffer.concat([latin1("7z\xbc\xaf'\x1c\x00\x04"), Buffer.alloc(4096, 0x11)]);
const tar = Buffer.alloc(2048);
tar.write('W3SVC1/u_ex210305.log', 0, 'latin1');
tar.write('ustar\x0000', 257, 'latin1');
const ntfs = Buffer.concat([latin1('\xebR\x90NTFS    '), Buffer.alloc(1024)]);

describe('containers exhunt cannot open', () => {
  it('are named in skipped with what to do; the loose logs beside them are still read', async () => {
    const host = join(dir, 'case');
    mkdirSync(host, { recursive: true });
    cpSync('examples/evidence/mail01-compromised/C/inetpub/logs/LogFiles/W3SVC1', join(host, 'W3SVC1'), { recursive: true });
    writeFileSync(join(host, '2026-12-01T101500_MAIL01.vhdx'), vhdx);
    writeFileSync(join(host, 'kape-zv.zip'), await zipOf([{ name: '2026-12-01T101500_MAIL02.vhdx', data: vhdx }]));
    writeFileSync(join(host, 'mail03.vhd'), fixedVhd);
    writeFileSync(join(host, 'MAIL04.E01'), e01);
    writeFileSync(join(host, 'HttpProxy-logs.7z'), sevenZ);
    writeFileSync(join(host, 'iis-logs.tar'), tar);
    writeFileSync(join(host, 'c-drive.dd'), ntfs);
    writeFileSync(join(host, 'banner.img'), Buffer.concat([latin1('\x89PNG\r\n\x1a\n'), Buffer.alloc(600)])); // a picture, not a disk
    const out = join(dir, 'case.json');
    const r = exhunt(['scan', host, '--json', out, '--jobs', '1']);
    expect(r.stderr).toBe('');
    const h = (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
    const why = Object.fromEntries(h.skipped.map((s) => [s.path, s.reason]));
    expect(why['2026-12-01T101500_MAIL01.vhdx']).toMatch(/^VHDX disk image \(KAPE target output\): not opened; mount it read-only .*Mount-DiskImage/);
    expect(why['kape-zv.zip/2026-12-01T101500_MAIL02.vhdx']).toMatch(/^disk image inside a zip: not opened/);
    expect(why['mail03.vhd']).toMatch(/^VHD disk image: not opened/);
    expect(why['MAIL04.E01']).toMatch(/^EnCase image \(E01\/Ex01\): not opened.*ewfmount/);
    expect(why['HttpProxy-logs.7z']).toBe('7z archive: not opened (extract it and scan the folder)');
    expect(why['iis-logs.tar']).toBe('tar archive: not opened (extract it and scan the folder)');
    expect(why['c-drive.dd']).toMatch(/^raw disk or volume image: not opened/);
    expect(why['banner.img']).toBeUndefined();
    // The web shell answering in the loose IIS logs is still found.
    expect(h.verdict).toBe('compromised');
  }, 120_000);

  it('judges the bytes, not the name alone', () => {
    expect(containerReason('x.vhdx', Buffer.from('not a disk at all'), null)).toBeNull();
    expect(containerReason('x.7z', latin1('PK\x03\x04'), null)).toBeNull();
    expect(containerReason('x.vhd', Buffer.alloc(600), latin1('conectix'))).toMatch(/^VHD disk image/);
    expect(containerReason('x.raw', Buffer.alloc(600), null)).toBeNull();
    expect(zipEntryContainerReason('a/b/disk.VMDK')).toMatch(/^disk image inside a zip/);
    expect(zipEntryContainerReason('a/b/u_ex210305.log')).toBeNull();
  });
});
