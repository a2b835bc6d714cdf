import type { Command } from 'commander';
import { assessBuildString, type Assessment } from '../../builds/assess.js';
import { FAMILIES, FAMILY_IDS } from '../../builds/table.js';
import { EXIT, UsageError } from '../errors.js';

interface BuildOptions {
  json?: boolean;
  cuOnly?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('assess an Exchange build: product, CU, ProxyLogon / ProxyShell / ProxyNotShell state and the update to install')
    .argument('<BUILD...>', 'a build in any spelling: 15.1.2176.2, 15.01.2176.002, "Version 15.1 (Build 2176.2)", 15.2.792')
    .option('--json', 'print one JSON object')
    .option('--cu-only', 'the build came from a CU-only source (AdminDisplayVersion, registry, TargetServerVersion)')
    .addHelpText(
      'after',
      '\nFamilies are vulnerable | fixed | not-affected | unknown. A CU-only build is never reported fixed unless the CU\n' +
        'itself ships the fix. Exit code 1 when any family is vulnerable. Sources: docs/builds.md.',
    )
    .action((parts: string[], opts: BuildOptions) => {
      // Unquoted "Version 15.1 (Build 2176.2)" arrives as several arguments.
      const text = parts.join(' ');
      const a = assessBuildString(text, { cuOnly: opts.cuOnly });
      if (!a) throw new UsageError(`not an Exchange build: ${JSON.stringify(text)}`);
      process.stdout.write(opts.json ? `${JSON.stringify(toJson(a))}\n` : toText(a));
      if (FAMILY_IDS.some((id) => a.families[id].state === 'vulnerable')) process.exitCode = EXIT.FINDINGS;
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
  for (const id of FAMILY_IDS) {
    const f = a.families[id];
    const cves = f.cves.filter((c) => c.state !== 'not-affected').map((c) => `${c.cve} ${c.why}`);
    lines.push(`${FAMILIES[id].name.padEnd(14)} ${f.state}${cves.length ? `: ${cves.join('; ')}` : ''}`);
  }
  lines.push(`Install        ${a.install ?? 'nothing needed for these families (keep the latest SU installed)'}`);
  for (const n of a.notes) lines.push(`Note           ${n}`);
  return `${lines.join('\n')}\n`;
}
