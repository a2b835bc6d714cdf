// evidence/file.ts lends one read buffer per thread to the next reader: readers at the same time must never share it,
// and a reader after another must see only its own file's bytes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readChunks, readRange, type EvidenceFile } from '../src/evidence/file.js';

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
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(files.map((f, k) => slowRead(k % 2 ? readChunks(f.file, 64 + k, { reuse: true }) : readRange(f.file, 0, f.text.length, 48 + k))));
      expect(got).toEqual(files.map((f) => f.text));
    }
  });

  it('lets a reader after another see only its own bytes (a shorter file after a longer one)', async () => {
    for (const f of [...files].reverse()) expect(await slowRead(readChunks(f.file, 4096, { reuse: true }))).toBe(f.text);
    for (const f of files) expect(await slowRead(readRange(f.file, 0, f.text.length, 100))).toBe(f.text);
  });
});
