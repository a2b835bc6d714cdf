#!/usr/bin/env node
// Refreshes data/builds/updates.csv from a copy of Microsoft's ExchangeBuildNumbers.csv
// (microsoft/Get-ExchangeBuildNumber; columns "Product Name,Build Number,Date,KB,Blog").
// Usage: node scripts/refresh-builds.mjs ExchangeBuildNumbers.csv [--data DIR] [--source KEY] [--dry-run]
// Rows of Exchange 2013, 2016, 2019 and SE are matched on (product, CU, update): build, date and KB are taken from
// Microsoft's file and the source key (default MS) is added to the row; unknown rows are appended. Rows only other
// sources know (CVE-record floors, HealthChecker) are kept. Prints what changed; `npm test` then checks every row.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The project's one CSV reader (src/parsers/csv.ts), from the build: quoted fields may hold commas, quotes and line
// breaks; blank lines are skipped.
const csvModule = new URL('../dist/parsers/csv.js', import.meta.url);
if (!existsSync(csvModule)) {
  process.stderr.write('scripts/refresh-builds.mjs: run `npm run build` first (it reads CSV through dist/parsers/csv.js)\n');
  process.exit(2);
}
const { parseCsv } = await import(csvModule.href);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args.splice(i, 2)[1];
};
const dryRun = args.includes('--dry-run');
const dataDir = opt('--data', fileURLToPath(new URL('../data/builds/', import.meta.url)));
const sourceKey = opt('--source', 'MS');
const input = args.find((a) => !a.startsWith('--'));
if (!input) {
  process.stderr.write('usage: node scripts/refresh-builds.mjs ExchangeBuildNumbers.csv [--data DIR] [--source KEY] [--dry-run]\n');
  process.exit(2);
}

const quote = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

const PRODUCTS = { 2013: 'E2013', 2016: 'E2016', 2019: 'E2019', SE: 'ESE' };
// "Exchange 2016 CU23 Aug25SU", "Exchange 2019 CU13 (2023H1)", "Exchange 2013 SP1 Mar21SU", "Exchange SE RTM"
const NAME = /^Exchange (2013|2016|2019|SE) (RTM|SP1|CU\d{1,2})(?: \([^)]*\))?(?: ([A-Z][a-z]{2}\d{2}(?:SU|HU)(?:v\d)?))?$/;

/** 4-part build without zero padding (the CSV mixes `15.00.1497.002` and `15.0.1497.2`). */
const normBuild = (b) => b.split('.').map((p) => String(Number(p))).join('.');
/** M/D/YYYY or MM/DD/YYYY → YYYY-MM-DD. */
function isoDate(d) {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(d.trim());
  return m ? `${m[3]}-${m[1].padStart(2, '0')}-${m[2].padStart(2, '0')}` : null;
}

const target = `${dataDir.replace(/\/?$/, '/')}updates.csv`;
const [header, ...dataRows] = parseCsv(readFileSync(target, 'utf8'));
const rows = dataRows.map((r) => Object.fromEntries(r.map((v, i) => [header[i], v])));
const key = (r) => `${r.product}|${r.cu}|${r.update}`;
const index = new Map(rows.map((r) => [key(r), r]));

const changes = [];
const msRows = parseCsv(readFileSync(input, 'utf8'));
if (msRows[0]?.[0] !== 'Product Name') throw new Error(`${input}: not in ExchangeBuildNumbers.csv format (first column must be "Product Name")`);
for (const [i, [name, build, date, kb]] of msRows.slice(1).entries()) {
  const m = NAME.exec(name?.trim() ?? '');
  if (!m) continue; // Exchange 2007/2010, previews: not tracked here
  const released = isoDate(date ?? '');
  if (!released || !/^\d{1,2}\.\d{1,2}\.\d{1,5}\.\d{1,5}$/.test(build ?? '')) {
    process.stderr.write(`${input} row ${i + 2}: skipped (bad build or date)\n`);
    continue;
  }
  const want = { product: PRODUCTS[m[1]], cu: m[2], update: m[3] ?? '', build: normBuild(build), released, kb: kb ?? '' };
  const have = index.get(key(want));
  if (!have) {
    const kind = !want.update ? 'CU' : want.update.includes('HU') ? 'HU' : 'SU';
    const row = { ...Object.fromEntries(header.map((h) => [h, ''])), ...want, kind, sources: sourceKey };
    rows.push(row);
    index.set(key(row), row);
    changes.push(`added ${name} ${row.build}`);
    continue;
  }
  for (const f of ['build', 'released', 'kb']) {
    if (want[f] && have[f] !== want[f]) {
      changes.push(`${name}: ${f} ${have[f] || '(none)'} -> ${want[f]}`);
      have[f] = want[f];
    }
  }
  if (!have.sources.split(' ').includes(sourceKey)) have.sources = `${have.sources} ${sourceKey}`.trim();
}

const order = { E2010: 0, E2013: 1, E2016: 2, E2019: 3, ESE: 4 };
const num = (b) => b.split('.').map(Number);
rows.sort((a, b) => order[a.product] - order[b.product] || num(a.build).reduce((d, x, i) => d || x - num(b.build)[i], 0));
const out = `${[header.join(','), ...rows.map((r) => header.map((h) => quote(r[h] ?? '')).join(','))].join('\n')}\n`;
process.stdout.write(changes.length ? `${changes.join('\n')}\n` : 'no changes\n');
if (!dryRun) writeFileSync(target, out);
