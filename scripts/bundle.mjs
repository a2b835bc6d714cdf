// Bundles the CLI for start-up speed (run by `npm run build`, after tsc): dist/cli/main.js (tsc's output, which
// loads ~140 ES modules one by one, each resolved, read and linked) is replaced by an esbuild bundle of the same
// sources (this package's own modules only), and the worker-thread entry is bundled beside it (dist/cli/worker.js, where the bundled engine/pool.ts
// looks for it). Code splitting keeps lazy imports lazy: a command's code, and the YAML parser of --rules, are chunks
// loaded when used. Measured on 2 cores (Node 20, IIS realistic 1 GB, --jobs 2): ~0.3 CPU-s less per scan, each
// worker scanning ~60 ms sooner; `exhunt --version` is no slower.
//
// tsc's own dist/cli/ (the unbundled commands, their maps and types) is removed first: unused beside the bundle, it
// would ship in the package. Running tsc alone afterwards writes the unbundled CLI back, whose main.js then loads
// dist/engine/worker.js: either layout is whole, never a mix. The library (dist/index.js) is never bundled.
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'dist', 'cli');

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { main: join(ROOT, 'src/cli/main.ts'), worker: join(ROOT, 'src/engine/worker.ts') },
  outdir: OUT,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // Dependencies stay in node_modules, imported by the chunk that uses them (yaml by the Sigma chunk only).
  packages: 'external',
  // The bundle sits one folder deeper than dist/packaged.js: src/packaged.ts finds the package root from this.
  define: { EXHUNT_BUNDLE_ROOT: '"../../"' },
});
chmodSync(join(OUT, 'main.js'), 0o755);
