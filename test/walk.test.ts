// The one folder walker (scan, collect and verify list files through it).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkFiles } from '../src/evidence/walk.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-walk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('walkFiles', () => {
  it('lists files depth first with sorted sub-folders, reports links without following them, and obeys enter()', async () => {
    for (const d of ['b/x', 'a', 'skip']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['top.txt', 'a/1.txt', 'b/2.txt', 'b/x/3.txt', 'skip/4.txt']) writeFileSync(join(root, f), f);
    symlinkSync(join(root, 'a'), join(root, 'b', 'link'));
    const problems: string[] = [];
    const files: string[] = [];
    const walk = walkFiles(root, { enter: (name) => name !== 'skip', problem: (parts, kind) => problems.push(`${kind}:${parts.join('/')}`) });
    for await (const f of walk) files.push(`${f.depth}:${f.parts.join('/')}`);
    expect(files).toEqual(['0:top.txt', '1:a/1.txt', '1:b/2.txt', '2:b/x/3.txt']);
    expect(problems).toEqual(['link:b/link']);
  });

  it('reports an unreadable root instead of throwing', async () => {
    const problems: string[] = [];
    for await (const f of walkFiles(join(root, 'missing'), { problem: (_p, kind, err) => problems.push(`${kind}:${err?.code}`) })) expect(f).toBeUndefined();
    expect(problems).toEqual(['unreadable:ENOENT']);
  });
});
