// What `npm run build` leaves in dist/ (all of which `npm pack` and `npm run release` ship): the library's compiled
// modules, one for each source, and in dist/cli the bundle alone. A module whose source was deleted (or tsc's
// unbundled CLI, unused beside the bundle) must not linger from an earlier build.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');
const DIST = join(REPO, 'dist');

describe('npm run build output (dist/)', () => {
  it('holds a compiled module for each source only, and in dist/cli the bundle only', (ctx) => {
    ctx.skip(!existsSync(join(DIST, 'cli', 'main.js')), 'dist/ not built: run `npm run build` (npm test does)');
    const files = readdirSync(DIST, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(DIST, join(e.parentPath, e.name)).split('\\').join('/'));
    const [cli, library] = [files.filter((f) => f.startsWith('cli/')), files.filter((f) => !f.startsWith('cli/'))];
    expect(cli.filter((f) => !/^cli\/(?:main|worker|chunk-[A-Z0-9]+)\.js$/.test(f))).toEqual([]);
    expect(library.filter((f) => !existsSync(join(REPO, 'src', f.replace(/\.(?:js|js\.map|d\.ts)$/, '.ts'))))).toEqual([]);
    expect(library.length).toBeGreaterThan(100);
  });
});
