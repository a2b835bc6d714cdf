import type { Command } from 'commander';
import { examples } from '../help.js';
import { assessBuildString, type Assessment, type CveStatus } from '../../builds/assess.js';
import { FAMILIES, FAMILY_IDS, SOURCES } from '../../builds/table.js';
import { EXIT, UsageError } from '../errors.js';

interface BuildOptions {
  json?: boolean;
  cuOnly?: boolean;
  date?: string;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .addHelpText('after', examples([
      'exhunt build 15.1.2176.2',
      'exhunt build "Version 15.1 (Build 2176.2)" --cu-only',
      'exhunt build 15.2.1118.40 --json',
    ]))
    .description('assess an Exchange build: product, CU, support state, every CVE it is exposed to (KEV first) and the one update to install')
    .argument('<BUILD...>', 'a build in any spelling: 15.1.2176.2, 15.01.2176.002, "Version 15.1 (Build 2176.2)", 15.2.792')
    .option('--json', 'print one JSON object')
    .option('--cu-only', 'the build came from a CU-only source (AdminDisplayVersion, registry, TargetServerVersion)')
    .option('--date <YYYY-MM-DD>', 'assess as of this day (default today): later updates are ignored, support is worded for it')
    .addHelpText(
      'after',
      '\nCVE states are vulnerable | fixed | not-affected | unknown. A CU-only build is never reported fixed unless the CU\n' +
        'itself ships the fix; a CVE that also needs configuration (Extended Protection, the hybrid application, Download\n' +
        'Domains) is unknown from a build alone (exhunt scan reads the configuration). Exit code 1 when any CVE is\n' +
        'vulnerable. Data and sources: data/builds/, docs/builds.md.',
    )
    .action((parts: string[], opts: BuildOptions) => {
      // Unquoted "Version 15.1 (Build 2176.2)" arrives as several arguments.
      const text = parts.join(' ');
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) throw new UsageError(`--date wants YYYY-MM-DD, got ${JSON.stringify(opts.date)}`);
      const a = assessBuildString(text, { cuOnly: opts.cuOnly, asOf: opts.date });
      if (!a) throw new UsageError(`not an Exchange build: ${JSON.stringify(text)}`);
      process.stdout.write(opts.json ? `${JSON.stringify(toJson(a))}\n` : toText(a));
      if (a.cves.some((c) => c.state === 'vulnerable') || FAMILY_IDS.some((id) => a.families[id].state === 'vulnerable')) process.exitCode = EXIT.FINDINGS;
    });
}

/** The `--json` shape: build, product, cu, families, install first; detail after. */
function toJson(a: Assessment): Record<string, unknown> {
  return {
    build: a.build,
    product: a.product,
    cu: a.cu,
    families: Object.fromEntries(FAMILY_IDS.map((id) => [id, a.families[id].state])),
    install: a.install,
    su: a.su,
    precision: a.precision,
    cu_release: a.cuRow ? { build: a.cuRow.build, released: a.cuRow.released, kb: a.cuRow.kb } : null,
    detail: Object.fromEntries(FAMILY_IDS.map((id) => [id, { cves: a.families[id].cves, remedy: a.families[id].remedy }])),
    notes: a.notes,
    as_of: a.asOf,
    support: a.support,
    install_update: a.installUpdate ? { update: a.installUpdate.su, cu: a.installUpdate.cu, build: a.installUpdate.build, kb: a.installUpdate.kb, released: a.installUpdate.released, esu: a.installUpdate.esu } : null,
    cves: a.cves.map((c) => ({
      cve: c.cve, state: c.state, kev: c.kev, impact: c.impact, cvss: c.cvss, family: c.family, why: c.why,
      fix: c.fix, requires: c.requires, build_state: c.buildState, source: c.sources.map((k) => SOURCES[k] ?? k),
    })),
  };
}

function toText(a: Assessment): string {
  const cu = a.cuRow ? `${a.cu} (${a.cuRow.build}, released ${a.cuRow.released}${a.cuRow.kb ? `, ${a.cuRow.kb}` : ''})` : 'not identified';
  const su = a.precision === 'cu' ? 'unknown (CU-only build source)' : (a.su ?? 'not one of the tabled SUs');
  const lines = [
    `Build          ${a.build}`,
    `Product        ${a.product ?? 'unknown'}`,
    `CU             ${cu}`,
    `SU             ${su}`,
  ];
  if (a.support) lines.push(`Support        ${a.support.text} (as of ${a.asOf})`);
  lines.push(`Families       ${FAMILY_IDS.map((id) => `${FAMILIES[id].name} ${a.families[id].state}`).join('; ')}`);
  const open = a.cves.filter((c) => c.state === 'vulnerable' || c.state === 'unknown');
  const kev = open.filter((c) => c.kev !== null);
  const rest = open.filter((c) => c.kev === null);
  const row = (c: CveStatus) => `  ${c.state.padEnd(10)} ${c.cve.padEnd(16)} ${c.impact.padEnd(10)} ${c.kev ? `KEV ${c.kev} ` : ''}${c.why}`;
  if (kev.length) lines.push('Exploited in the wild (CISA KEV):', ...kev.map(row));
  if (rest.length) lines.push('Other CVEs (by impact):', ...rest.map(row));
  const fixed = a.cves.filter((c) => c.state === 'fixed').length;
  const na = a.cves.filter((c) => c.state === 'not-affected').length;
  lines.push(`CVEs           ${open.length} open or unknown, ${fixed} fixed, ${na} not affected (of ${a.cves.length} known on ${a.asOf}; --json lists each)`);
  lines.push(`Install        ${a.install ?? 'nothing needed: keep installing each new security update'}`);
  for (const n of a.notes) lines.push(`Note           ${n}`);
  return `${lines.join('\n')}\n`;
}
