// engine/pool.ts fed while the evidence is still being listed (engine/scan.ts hands over a folder's files in parts
// as they are found): scanning starts on the first part, before the listing ends, and every file of every part is
// reported once.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvidenceFile } from '../src/evidence/file.js';
import { FilePool } from '../src/engine/pool.js';
import type { Prepared } from '../src/engine/registry.js';
import { scanOptions } from '../src/engine/scan.js';

const DIR = join(resolve(import.meta.dirname, '..'), 'examples', 'evidence', 'mail02-clean');
// Files that do not exist: each is reported as not readable, with no rule set needed.
const file = (rel: string): EvidenceFile => ({ kind: 'fs', abs: join(DIR, rel), rel, size: 1000, mtimeMs: 0 });
const prepared = null as unknown as Prepared;

describe('FilePool fed in parts', () => {
  it('scans the first part before the next is listed, and reports every file of every part once', async () => {
    const got: string[] = [];
    let firstDone: () => void = () => {};
    const first = new Promise<void>((go) => (firstDone = go));
    // The second part comes only once a file of the first is reported: a pool that waited for the whole list would
    // never finish.
    async function* parts(): AsyncGenerator<EvidenceFile[]> {
      yield [file('a.log'), file('b.log')];
      await first;
      yield [file('c.log')];
      yield [];
      yield [file('d.log'), file('e.log')];
    }
    const pool = new FilePool(1, scanOptions());
    await pool.run(parts(), prepared, (f, r) => {
      got.push(f.rel);
      expect(r.skipped).toEqual([{ path: f.rel, reason: expect.stringMatching(/^not readable/), unread: 'file' }]);
      firstDone();
    });
    await pool.close();
    expect(got.sort()).toEqual(['a.log', 'b.log', 'c.log', 'd.log', 'e.log']);
  });

  it('a listing that fails part-way: what was handed over is scanned, then the error is raised', async () => {
    async function* parts(): AsyncGenerator<EvidenceFile[]> {
      yield [file('a.log')];
      throw new Error('listing broke');
    }
    const got: string[] = [];
    const pool = new FilePool(1, scanOptions());
    await expect(pool.run(parts(), prepared, (f) => got.push(f.rel))).rejects.toThrow('listing broke');
    await pool.close();
    expect(got).toEqual(['a.log']);
  });
});
