import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { readAll, readHead, type EvidenceFile } from '../src/evidence/file.js';
import { closeZips, listZip, openZipEntryStream, safeEntryName } from '../src/evidence/zip.js';

let dir: string;

/** Writes a zip with yazl, then lets the test patch bytes yazl itself would refuse to write. */
async function makeZip(name: string, entries: Array<[string, Buffer, { mode?: number }?]>, patch?: (b: Buffer) => void): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [n, data, opts] of entries) zip.addBuffer(data, n, { mtime: new Date('2021-03-03T00:00:00Z'), ...opts });
  zip.end();
  const parts: Buffer[] = [];
  for await (const c of zip.outputStream) parts.push(c as Buffer);
  const buf = Buffer.concat(parts);
  patch?.(buf);
  const path = join(dir, name);
  await writeFile(path, buf);
  return path;
}

/** Replaces every occurrence of an entry name (local header and central directory) by one of the same length. */
function rename(buf: Buffer, from: string, to: string): void {
  expect(to.length).toBe(from.length);
  for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + 1)) buf.write(to, at, 'latin1');
}

/** Offset of the central directory record of `name`. */
function cdRecord(buf: Buffer, name: string): number {
  const sig = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  for (let at = buf.indexOf(sig); at >= 0; at = buf.indexOf(sig, at + 1)) {
    const len = buf.readUInt16LE(at + 28);
    if (buf.toString('latin1', at + 46, at + 46 + len) === name) return at;
  }
  throw new Error(`no central record for ${name}`);
}

async function list(path: string) {
  const skipped: Array<[string, string]> = [];
  const entries = await listZip(path, (n, r) => skipped.push([n, r]));
  return { names: entries.map((e) => e.name), skipped };
}

async function readEntry(path: string, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await openZipEntryStream(path, name)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhunt-zip-'));
});
afterAll(async () => {
  await closeZips();
  await rm(dir, { recursive: true, force: true });
});

describe('safeEntryName', () => {
  it('normalises and refuses escapes', () => {
    expect(safeEntryName('files\\C\\inetpub\\x.aspx')).toBe('files/C/inetpub/x.aspx');
    expect(safeEntryName('./a//b')).toBe('a/b');
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'c:x', 'a\0b', '', './']) expect(safeEntryName(bad), bad).toBeNull();
  });
});

describe('listZip refuses hostile entries and keeps the rest', () => {
  it('zip-slip, absolute and drive-letter names', async () => {
    const z = await makeZip('slip.zip', [['ok.txt', Buffer.from('ok')], ['xx/evil.txt', Buffer.from('x')], ['aaaaaaaaaaa', Buffer.from('y')], ['Qx/drive.txt', Buffer.from('z')], ['yy/evil2.txt', Buffer.from('w')]], (b) => {
      rename(b, 'xx/evil.txt', '../evil.txt');
      rename(b, 'Qx/drive.txt', 'Q:/drive.txt');
      rename(b, 'yy/evil2.txt', '..\\evil2.txt');
      rename(b, 'aaaaaaaaaaa', '/etc/passwd');
    });
    const { names, skipped } = await list(z);
    expect(names).toEqual(['ok.txt']);
    expect(skipped.map((s) => s[0]).sort()).toEqual(['../evil.txt', '../evil2.txt', '/etc/passwd', 'Q:/drive.txt']);
    expect(skipped.every((s) => /unsafe path/.test(s[1]))).toBe(true);
  });
  it('symbolic link entries (unix mode in the external attributes)', async () => {
    const z = await makeZip('link.zip', [['link', Buffer.from('/etc/passwd'), { mode: 0o120777 }], ['file.txt', Buffer.from('f'), { mode: 0o100644 }]]);
    const { names, skipped } = await list(z);
    expect(names).toEqual(['file.txt']);
    expect(skipped).toEqual([['link', 'symbolic link entry: not followed']]);
  });
  it('encrypted entries', async () => {
    const z = await makeZip('enc.zip', [['secret.txt', Buffer.from('s')], ['plain.txt', Buffer.from('p')]], (b) => {
      const cd = cdRecord(b, 'secret.txt');
      b.writeUInt16LE(b.readUInt16LE(cd + 8) | 1, cd + 8);
    });
    const { names, skipped } = await list(z);
    expect(names).toEqual(['plain.txt']);
    expect(skipped[0][1]).toMatch(/encrypted/);
  });
  it('large entries whose declared ratio is a zip bomb, and duplicates; small zero-filled entries stay readable', async () => {
    const z = await makeZip(
      'bomb.zip',
      [['zeros.bin', Buffer.alloc(4000)], ['small-zeros.evtx', Buffer.alloc(8 * 1024 * 1024)], ['a.txt', Buffer.from('1')], ['a.txt', Buffer.from('2')]],
      (b) => b.writeUInt32LE(3 * 1024 ** 3, cdRecord(b, 'zeros.bin') + 24), // declares 3 GiB from a few bytes
    );
    const { names, skipped } = await list(z);
    expect(names).toEqual(['small-zeros.evtx', 'a.txt']);
    expect((await readEntry(z, 'small-zeros.evtx')).length).toBe(8 * 1024 * 1024);
    expect(skipped.map((s) => s[1])).toEqual([expect.stringMatching(/compression ratio \d+:1 looks like a zip bomb/), 'duplicate entry name: only the first is read']);
    expect((await readEntry(z, 'a.txt')).toString()).toBe('1');
  });
});

describe('openZipEntryStream', () => {
  it('caps the bytes actually inflated at the declared size', async () => {
    const body = Buffer.from('A'.repeat(5000));
    const z = await makeZip('liar.zip', [['liar.txt', body]], (b) => b.writeUInt32LE(100, cdRecord(b, 'liar.txt') + 24));
    expect((await listZip(z, () => undefined))[0].size).toBe(100);
    await expect(readEntry(z, 'liar.txt')).rejects.toThrow(/inflates beyond its declared 100 bytes/);
  });
  it('reports an entry shorter than declared', async () => {
    const z = await makeZip('short.zip', [['short.txt', Buffer.from('B'.repeat(500))]], (b) => b.writeUInt32LE(501, cdRecord(b, 'short.txt') + 24));
    await expect(readEntry(z, 'short.txt')).rejects.toThrow(/shorter than declared/);
  });
  it('refuses entries that were not listed as readable', async () => {
    const z = await makeZip('slip2.zip', [['xx/evil.txt', Buffer.from('x')]], (b) => rename(b, 'xx/evil.txt', '../evil.txt'));
    await expect(openZipEntryStream(z, '../evil.txt')).rejects.toThrow(/not found in zip \(or refused\)/);
  });
  it('reads many entries from one central-directory scan, and serves readHead/readAll', async () => {
    const entries: Array<[string, Buffer]> = Array.from({ length: 40 }, (_, i) => [`files/C/logs/f${i}.log`, Buffer.from(`line ${i}\n`.repeat(100))]);
    const z = await makeZip('many.zip', entries);
    const spy = vi.spyOn(yauzl, 'fromFd');
    const listed = await listZip(z, () => undefined);
    for (const e of listed) expect((await readEntry(z, e.name)).toString()).toBe(`line ${e.name.match(/f(\d+)/)![1]}\n`.repeat(100));
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    const file: EvidenceFile = { kind: 'zip', zip: z, entry: listed[3].name, rel: listed[3].name, size: listed[3].size, mtimeMs: listed[3].mtimeMs };
    expect((await readHead(file, 7)).toString()).toBe('line 3\n');
    expect((await readAll(file)).length).toBe(listed[3].size);
  });
  it('sees a rewritten zip at the same path (cache keyed by size and mtime)', async () => {
    const z = await makeZip('same.zip', [['one.txt', Buffer.from('1')]]);
    expect((await list(z)).names).toEqual(['one.txt']);
    const again = await makeZip('same2.zip', [['two.txt', Buffer.from('22')]]);
    await writeFile(z, await readFile(again));
    expect((await list(z)).names).toEqual(['two.txt']);
  });
});
