// Data flows one way (evidence -> records -> findings -> host verdict -> reports): no import in src/ runs back up
// the layers, and reports never import the engine (they read what it stored on the HostResult).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

/** Rank of each top-level module or folder of src/: an import may go to the same rank or lower, never higher. */
const RANK: Record<string, number> = {
  model: 0, semantics: 0, version: 0, packaged: 0,
  evidence: 1, parsers: 1, builds: 1,
  rules: 2, search: 2, mitigations: 2,
  engine: 3, response: 3, remote: 3, report: 3,
  cli: 4, index: 4,
};
/** Same-rank pairs that must still not meet. */
const FORBIDDEN: Array<[string, string, string]> = [['report', 'engine', 'reports render stored results and never run the engine']];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

const layerOf = (abs: string) => relative(SRC, abs).split(sep)[0].replace(/\.[jt]s$/, '');

function imports(): Array<{ from: string; to: string; file: string; spec: string }> {
  const out: Array<{ from: string; to: string; file: string; spec: string }> = [];
  for (const file of walk(SRC)) {
    // Static imports and the lazy ones (`await import('../x.js')`, loaded only when used) alike.
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2];
      const target = resolve(dirname(file), spec);
      out.push({ from: layerOf(file), to: layerOf(target), file: relative(SRC, file), spec });
    }
  }
  return out;
}

/** Layers that only turn data into data: no file, process, network or thread access (I/O stays at the edges). */
const PURE = ['model', 'semantics', 'version', 'parsers', 'rules', 'search', 'mitigations'];
const IO_MODULE = /(?:import|export)\s[^;]*?from\s+'node:(fs|fs\/promises|child_process|http|https|tls|dgram|worker_threads)'/g;

describe('layering of src/', () => {
  const all = imports();

  it('knows every folder (a new one gets a rank here)', () => {
    const unknown = [...new Set(all.flatMap((i) => [i.from, i.to]))].filter((l) => RANK[l] === undefined);
    expect(unknown).toEqual([]);
    expect(all.length).toBeGreaterThan(100);
  });

  it('has no import running back up the layers', () => {
    const up = all.filter((i) => RANK[i.to] > RANK[i.from]).map((i) => `${i.file} imports ${i.spec}`);
    expect(up).toEqual([]);
  });

  it('keeps the forbidden pairs apart', () => {
    const bad = all.filter((i) => FORBIDDEN.some(([a, b]) => i.from === a && i.to === b)).map((i) => `${i.file} imports ${i.spec}`);
    expect(bad).toEqual([]);
  });

  it('keeps file and process access out of the pure layers', () => {
    const io = walk(SRC)
      .filter((f) => PURE.includes(layerOf(f)))
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(IO_MODULE)].map((m) => `${relative(SRC, f)} imports node:${m[1]}`));
    expect(io).toEqual([]);
  });
});
