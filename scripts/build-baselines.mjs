// Builds data/baselines/exchange-baselines.tsv.gz, the compact known-good list the file sweep ships, from
// Microsoft's CSS-Exchange per-build baselines (CSV `SHA256,Build,RelativePath`, no header, UTF-8 BOM).
// Usage: node scripts/build-baselines.mjs [DIR_WITH_baseline_*.csv]   (default ../shared/data/external/CSS-Exchange-Baselines)
// Output lines: `<path>\t<sha256 first 16 hex>:<bitmask of builds> ...`; path lower case, `\` separated, no
// leading `\`, build folders already written `version` by Microsoft. 64-bit prefixes keep the file small; a
// collision would need a second preimage of 2^64 work against a specific genuine file.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2] ?? join(root, '..', 'shared', 'data', 'external', 'CSS-Exchange-Baselines');
const files = readdirSync(dir).filter((f) => /^baseline_[\d.]+\.csv$/.test(f)).sort();
if (files.length === 0 || files.length > 30) throw new Error(`expected 1..30 baseline_*.csv in ${dir}`);

const builds = [];
const byPath = new Map(); // path -> Map(hash16 -> mask)
for (const f of files) {
  const bit = 1 << builds.length;
  builds.push(f.slice(9, -4));
  const text = readFileSync(join(dir, f), 'utf8').replace(/^\uFEFF/, '');
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const [sha, , rel] = line.split(',');
    if (!/^[0-9A-Fa-f]{64}$/.test(sha) || !rel) throw new Error(`${f}: bad line ${line.slice(0, 120)}`);
    const path = rel.replace(/^\\/, '').toLowerCase();
    const h = sha.slice(0, 16).toLowerCase();
    const m = byPath.get(path) ?? new Map();
    m.set(h, (m.get(h) ?? 0) | bit);
    byPath.set(path, m);
  }
}
const lines = [`#exhunt-baseline/1`, `#builds\t${builds.join('\t')}`, `#source\tmicrosoft/CSS-Exchange Security/Baselines (MIT), commit 6b0bfa9f12e35da5b95d12fc9ac05d676c65a481`];
for (const path of [...byPath.keys()].sort()) {
  const hs = [...byPath.get(path)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([h, m]) => `${h}:${m.toString(16)}`);
  lines.push(`${path}\t${hs.join(' ')}`);
}
const out = join(root, 'data', 'baselines', 'exchange-baselines.tsv.gz');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, gzipSync(lines.join('\n') + '\n', { level: 9 }));
console.log(`${out}: ${builds.join(', ')}; ${byPath.size} paths`);
