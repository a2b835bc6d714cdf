import type { Command } from 'commander';
import { examples } from '../help.js';
import { safeText } from '../../report/terminal.js';
import { EXIT, UsageError } from '../errors.js';
import { CaseFormatError } from '../../evidence/case.js';
import { verifyCase, verifyOk, type VerifyResult } from '../../response/verify.js';

const pinState = (v: boolean | null, what: string): string =>
  v === null ? `${what}: no record to compare` : v ? `${what}: intact` : `${what}: CHANGED`;

function formatVerify(r: VerifyResult): string {
  const lines = [
    `${r.checked} files checked: ${r.changed.length} changed, ${r.missing.length} missing, ${r.extra.length} not in manifest`,
    // Paths come from the case (and so from the evidence): no terminal escapes.
    ...r.changed.map((c) => `CHANGED  ${safeText(c.path)}  (${c.expected.size} → ${c.actual.size} bytes, sha256 ${c.actual.sha256})`),
    ...r.missing.map((p) => `MISSING  ${safeText(p)}`),
    ...r.extra.map((p) => `EXTRA    ${safeText(p)}`),
    pinState(r.manifestIntact, 'manifest.json vs custody.log'),
  ];
  if (r.sealIntact !== null) lines.push(pinState(r.sealIntact, 'zip vs its .custody.log seal'));
  lines.push(verifyOk(r) ? 'OK: case unchanged since collection' : 'FAILED: the case changed since collection');
  return `${lines.join('\n')}\n`;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .addHelpText('after', examples([
      'exhunt verify E:\\cases\\mail01.zip',
      'exhunt verify /cases/mail01',
    ]))
    .description('re-hash a case (folder or zip) against its manifest; exit 1 on any change')
    .argument('<CASE>', 'case folder or case zip')
    .action(async (root: string) => {
      const r = await verifyCase(root).catch((err: Error) => {
        throw err instanceof CaseFormatError || (err as NodeJS.ErrnoException).code === 'ENOENT' ? new UsageError(err.message) : err;
      });
      process.stdout.write(formatVerify(r));
      process.exitCode = verifyOk(r) ? EXIT.CLEAN : EXIT.FINDINGS;
    });
}
