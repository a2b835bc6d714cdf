import type { Command } from 'commander';
import { examples } from '../help.js';
import { safeText } from '../../report/terminal.js';
import { EXIT, UsageError } from '../errors.js';
import { CaseFormatError, sealPath } from '../../evidence/case.js';
import { verifyCase, verifyOk, type VerifyResult } from '../../response/verify.js';

const pinState = (v: boolean | null, what: string): string => `${what}: ${v === null ? 'no usable record' : v ? 'intact' : 'CHANGED'}`;

function formatVerify(root: string, r: VerifyResult): string {
  const lines = [
    `${r.checked} files checked: ${r.changed.length} changed, ${r.missing.length} missing, ${r.extra.length} not in manifest`,
    // Paths come from the case (and so from the evidence): no terminal escapes.
    ...r.changed.map((c) => `CHANGED  ${safeText(c.path)}  (${c.expected.size} → ${c.actual.size} bytes, sha256 ${c.actual.sha256})`),
    ...r.missing.map((p) => `MISSING  ${safeText(p)}`),
    ...r.extra.map((p) => `EXTRA    ${safeText(p)}`),
    pinState(r.manifestIntact, 'manifest.json vs custody.log'),
    pinState(r.sealIntact, `seal ${safeText(sealPath(root))}`),
  ];
  if (r.seal) lines.push(`seal digest: ${r.seal}${r.expectMatches === null ? '' : r.expectMatches ? ' (the one you kept)' : ' (NOT the one you kept)'}`);
  lines.push(...r.problems.slice(1).map((p) => `PROBLEM  ${safeText(p)}`));
  if (!verifyOk(r)) lines.push(`FAILED: ${safeText(r.problems[0])}`);
  else if (r.expectMatches) lines.push('OK: case unchanged since collection (its seal digest is the one kept at collection)');
  else
    lines.push(
      'OK: case consistent with its own records; compare the seal digest with the one kept at collection (--expect) to rule out a rewrite of case and seal',
    );
  return `${lines.join('\n')}\n`;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .addHelpText('after', examples([
      'exhunt verify E:\\cases\\mail01.zip --expect 5f3c8a2e9b1d4c7f6a0e2b9d8c1f4a7e3b6d9c2f5a8e1b4d7c0f3a6e9b2d5c8f',
      'exhunt verify /cases/mail01',
    ]))
    .description('re-hash a case (folder or zip) against its manifest, custody.log and seal; exit 1 if it changed, 4 if incomplete')
    .argument('<CASE>', 'case folder or case zip')
    .option('--expect <SHA256>', 'the seal digest collect printed, kept outside the case (ticket, notes): fail unless the case still has it')
    .action(async (root: string, opts: { expect?: string }) => {
      if (opts.expect !== undefined && !/^[0-9a-f]{64}$/i.test(opts.expect)) throw new UsageError(`--expect takes the 64-hex-digit seal digest collect printed, not ${opts.expect}`);
      const r = await verifyCase(root, { expect: opts.expect }).catch((err: Error) => {
        throw err instanceof CaseFormatError || (err as NodeJS.ErrnoException).code === 'ENOENT' ? new UsageError(err.message) : err;
      });
      process.stdout.write(formatVerify(root, r));
      process.exitCode = r.incomplete !== null ? EXIT.INCOMPLETE : verifyOk(r) ? EXIT.CLEAN : EXIT.FINDINGS;
    });
}
