import { mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultRuleSet } from '../../rules/ruleset.js';
import { UsageError } from '../errors.js';

/** A stable UUID (v4 layout) from the rule id, so a re-export keeps each Sigma rule's id. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(`exhunt-sigma:${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `PL-24 answered` → `exhunt_pl_24_answered`. */
const fileName = (name: string) => `exhunt_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with the rule set: export declarative rules as Sigma');
  rules
    .command('export')
    .description('write the declarative rules over IIS, MSExchange Management and Exchange logs as Sigma v2.1 YAML, one file per rule')
    .requiredOption('--sigma <DIR>', 'folder to write the .yml files into')
    .action(async (flags: { sigma: string }) => {
      if (!flags.sigma) throw new UsageError('rules export: give --sigma DIR');
      const { defaultMapping, sigmaGrades, toSigma } = await import('../../rules/sigma.js');
      const mapping = defaultMapping();
      const date = new Date().toISOString().slice(0, 10);
      await mkdir(flags.sigma, { recursive: true });
      const set = defaultRuleSet();
      let written = 0;
      const skipped: string[] = [];
      // The cmdlet rules read text logs and event logs alike: each rule once.
      for (const rule of new Map([...set.recordRules, ...set.evtxRules].map((r) => [r.id, r])).values()) {
        const yaml = toSigma(rule, mapping, stableUuid(rule.id), date);
        if (yaml === null) {
          skipped.push(rule.id);
          continue;
        }
        await writeFile(join(flags.sigma, `${fileName(rule.id)}.yml`), yaml);
        written++;
        // Grades written as conditions export as their own rules, each with its own level.
        for (const grade of sigmaGrades(rule)) {
          await writeFile(join(flags.sigma, `${fileName(grade)}.yml`), toSigma(rule, mapping, stableUuid(`${rule.id}/${grade}`), date, grade)!);
          written++;
        }
      }
      process.stdout.write(`${written} Sigma rule(s) written to ${flags.sigma}; ${skipped.length} rule(s) are code matchers or read sources without a Sigma logsource and do not export (${skipped.join(', ')})\n`);
    });
}
