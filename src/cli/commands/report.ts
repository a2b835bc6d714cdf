import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetBuilder, fleetExitCode, ResultFileError } from '../../report/fleet-report.js';
import { writeFleetOutputs } from '../../report/fleet-output.js';
import { UsageError } from '../errors.js';

interface ReportFlags {
  html?: string;
  csv?: string;
  json?: string;
  ndjson?: string;
  summary?: boolean;
  quiet?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('combine scan results (exhunt scan --json) from many runs into one fleet view with cross-host campaigns')
    .argument('<RESULT.json...>', 'scan results; the same host in several keeps the newest scan')
    .option('--html <FILE>', 'self-contained HTML: verdict counts, campaigns, a sortable, filterable, paged host table')
    .option('--csv <DIR>', 'write fleet-hosts.csv and fleet-campaigns.csv into DIR')
    .option('--json <FILE>', 'write the fleet report as JSON (schema exhunt.fleet/1); - for stdout')
    .option('--ndjson <FILE>', 'one line per host, then one per cross-host indicator')
    .option('--summary', 'terminal: only hosts whose verdict is not clean, one line each, then the totals')
    .option('-q, --quiet', 'no terminal output')
    .addHelpText('after', '\nExit codes: 0 no host compromised, attempted or suspicious, 1 otherwise, 2 usage or input error.')
    .action(async (files: string[], flags: ReportFlags) => {
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length) throw new UsageError(`no such file: ${missing.join(', ')}`);
      const builder = new FleetBuilder();
      try {
        for (const f of files) await builder.addFile(f);
      } catch (err) {
        if (err instanceof ResultFileError) throw new UsageError(err.message);
        throw err;
      }
      const r = builder.build();
      await writeFleetOutputs(r, { ...flags, terminal: flags.quiet ? null : { summary: Boolean(flags.summary) } });
      process.exitCode = fleetExitCode(r);
    });
}
