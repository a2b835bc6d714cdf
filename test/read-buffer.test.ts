// evidence/file.ts: a thread's lender (ReadBuffers, carried by the scan context) passes one read buffer to the next
// reader: readers at the same time must never share it, and a reader after another must see only its own file's bytes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, HEAD_BYTES, lendStart, ReadBuffers, readChunks, readRange, readStart, type EvidenceFile } from '../src/evidence/file.js';
import { startsWithChar } from '../src/parsers/text-encoding.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-readbuf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const files = Array.from({ length: 6 }, (_, k) => {
  const text = Array.from({ length: 40 + k * 7 }, (_, i) => `file${k} line ${i} ${'abcdefghij'.slice(0, (i * 3 + k) % 10)}\n`).join('');
  const abs = join(root, `f${k}.log`);
  writeFileSync(abs, text);
  return { text, file: { kind: 'fs', abs, rel: `f${k}.log`, size: text.length, mtimeMs: 0 } as EvidenceFile & { kind: 'fs' } };
});

/** Reads a file with `reuse`, handing control to the event loop after each chunk before reading it (allowed). */
async function slowRead(chunks: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const c of chunks) {
    await new Promise((r) => setImmediate(r));
    text += c.toString('latin1');
  }
  return text;
}

describe('read buffer lent between readers', () => {
  it('gives readers at the same time buffers of their own', async () => {
    const lender = new ReadBuffers();
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(files.map((f, k) => slowRead(k % 2 ? readChunks(f.file, 64 + k, { reuse: lender }) : readRange(f.file, 0, f.text.length, lender, 48 + k))));
      expect(got).toEqual(files.map((f) => f.text));
    }
  });

  it('lets a reader after another see only its own bytes (a shorter file after a longer one)', async () => {
    const lender = new ReadBuffers();
    for (const f of [...files].reverse()) expect(await slowRead(readChunks(f.file, 4096, { reuse: lender }))).toBe(f.text);
    for (const f of files) expect(await slowRead(readRange(f.file, 0, f.text.length, lender, 100))).toBe(f.text);
    for (const f of files) expect((await readStart(f.file, 1 << 20, lender)).bytes.toString('latin1')).toBe(f.text);
  });

  it('passes one buffer from reader to reader of the same lender (the memory saving), never between lenders', async () => {
    const lender = new ReadBuffers();
    const first = lender.borrow(100);
    lender.giveBack(first, true);
    const again = lender.borrow(50);
    expect(again.buffer === first.buffer).toBe(true);
    // Still lent: the next reader gets one of its own, and so does a reader of another lender.
    expect(lender.borrow(50).buffer === first.buffer).toBe(false);
    expect(new ReadBuffers().borrow(50).buffer === first.buffer).toBe(false);
    lender.giveBack(again, true);
    // A whole read reads into it and into a second buffer (the chunk read ahead), and both are lent again after.
    const seen: ArrayBufferLike[] = [];
    for await (const c of readChunks(files[0].file, 64, { reuse: lender })) seen.push(c.buffer);
    const used = [...new Set(seen)];
    expect(seen.length > 2 && used.length === 2 && used.includes(first.buffer)).toBe(true);
    // Chunks alternate: the one the caller holds is never the one being read into.
    expect(seen.every((b, i) => i === 0 || b !== seen[i - 1])).toBe(true);
    await new Promise((r) => setImmediate(r));
    const lent = [lender.borrow(10).buffer, lender.borrow(10).buffer];
    expect(used.every((b) => lent.includes(b))).toBe(true);
  });

  it('reads no chunk ahead of a file that fits in one (no second buffer)', async () => {
    const lender = new ReadBuffers();
    const seen: ArrayBufferLike[] = [];
    for await (const c of readChunks(files[0].file, 4096, { reuse: lender })) seen.push(c.buffer);
    await new Promise((r) => setImmediate(r));
    expect(seen.length).toBe(1);
    expect(lender.borrow(10).buffer).toBe(seen[0]);
    expect(lender.borrow(10).buffer === seen[0]).toBe(false);
  });

  it('stops reading ahead when the caller stops early, and lends the buffers again', async () => {
    const lender = new ReadBuffers();
    let text = '';
    for await (const c of readRange(files[5].file, 0, files[5].text.length, lender, 32)) {
      text += c.toString('latin1');
      if (text.length >= 64) break;
    }
    expect(text).toBe(files[5].text.slice(0, 64));
    await new Promise((r) => setImmediate(r));
    expect(await slowRead(readRange(files[5].file, 0, files[5].text.length, lender, 32))).toBe(files[5].text);
  });
});

describe("lendStart (a file's head in the thread's buffer, not a copy per file)", () => {
  it("lends the head until it is released, then to the next file's head; a file's chunks read beside it", async () => {
    const lender = new ReadBuffers();
    const first = await lendStart(files[1].file, HEAD_BYTES, lender);
    expect(first.head).toEqual({ bytes: Buffer.from(files[1].text), whole: true });
    // Held while the file is scanned: its chunks (and the chunk read ahead) are read into other buffers.
    const seen: ArrayBufferLike[] = [];
    for await (const c of readChunks(files[1].file, 64, { reuse: lender })) seen.push(c.buffer);
    expect(seen.includes(first.head.bytes.buffer)).toBe(false);
    expect(first.head.bytes.toString('latin1')).toBe(files[1].text);
    await new Promise((r) => setImmediate(r));
    first.release();
    first.release(); // once only: a second call lends nothing twice
    // The next file's head takes the same (small) buffer, its chunks the two others: no new buffer per file.
    const next = await lendStart(files[2].file, HEAD_BYTES, lender);
    // (compared as booleans: a failed toBe would print two 4 MiB buffers)
    expect(next.head.bytes.buffer === first.head.bytes.buffer).toBe(true);
    expect(next.head.bytes.toString('latin1')).toBe(files[2].text);
    expect(next.head.bytes.buffer.byteLength).toBeLessThan(CHUNK_SIZE);
    const chunks = [lender.borrow(CHUNK_SIZE).buffer, lender.borrow(CHUNK_SIZE).buffer];
    expect(new Set([...chunks, next.head.bytes.buffer]).size).toBe(3);
    expect(chunks.every((b) => seen.includes(b))).toBe(true);
    next.release();
  });
});

describe('readStart', () => {
  it('says whether the head is the whole file, also when the file grew after it was listed', async () => {
    const f = files[0];
    expect(await readStart(f.file, 1 << 20)).toEqual({ bytes: Buffer.from(f.text), whole: true });
    expect(await readStart(f.file, 10)).toEqual({ bytes: Buffer.from(f.text.slice(0, 10)), whole: false });
    // Exactly n bytes: the end is not proven.
    expect((await readStart(f.file, f.text.length)).whole).toBe(false);
    // Listed smaller than it is now: not whole, whatever the listing said.
    expect((await readStart({ ...f.file, size: 5 }, 1 << 20)).whole).toBe(false);
  });
});

describe('readChunks from a start that was the whole file', () => {
  it('yields its bytes without opening the file again, as a copy readers may edit', async () => {
    const f = files[1];
    const start = await readStart(f.file, HEAD_BYTES);
    expect(start.whole).toBe(true);
    // Gone from disk after its start was read: the chunk still comes, so the file was not opened again.
    const gone = { ...f.file, abs: join(root, 'gone.log'), rel: 'gone.log' };
    const lender = new ReadBuffers();
    const seen: string[] = [];
    for await (const c of readChunks(gone, undefined, { reuse: lender, start })) {
      seen.push(c.toString('latin1'));
      c.fill(0x41); // a reader rewriting in place (lone CR -> LF) must not change the start other scanners see
    }
    expect(seen).toEqual([f.text]);
    expect(start.bytes.toString('latin1')).toBe(f.text);
    await expect(slowRead(readChunks(gone, undefined, { reuse: lender }))).rejects.toThrow(/ENOENT/);
  });

  it('reads the file when the start was only its beginning', async () => {
    const f = files[2];
    const start = await readStart(f.file, 16);
    expect(start.whole).toBe(false);
    expect(await slowRead(readChunks(f.file, 64, { reuse: new ReadBuffers(), start }))).toBe(f.text);
  });
});

describe('startsWithChar (format checks that skip decoding)', () => {
  it('judges ASCII starts from bytes and decodes BOMs and other Unicode', () => {
    expect(startsWithChar(Buffer.from(' \r\n\t{"a":1}'), '{')).toBe(true);
    expect(startsWithChar(Buffer.from('function x() {}'), '{')).toBe(false);
    expect(startsWithChar(Buffer.from('\ufeff  <Event>'), '<')).toBe(true);
    expect(startsWithChar(Buffer.from('\u00a0{'), '{')).toBe(true); // trimStart drops Unicode spaces too
    expect(startsWithChar(Buffer.from([0xff, 0xfe, 0x3c, 0x00]), '<', 'utf16le')).toBe(true);
    expect(startsWithChar(Buffer.from([0x8f, 0x01, 0x7b]), '{')).toBe(false);
    expect(startsWithChar(Buffer.alloc(0), '{')).toBe(false);
  });
});
