// Where a report goes: a file, or stdout when the option's value is `-` (for every output option).
import { writeFile } from 'node:fs/promises';
import { STDOUT, writeStdout } from '../report/stream.js';
import { UsageError } from './errors.js';

export { STDOUT, writeStdout };

export async function writeOutput(target: string, text: string): Promise<void> {
  if (target === STDOUT) await writeStdout(text);
  else await writeFile(target, text, 'utf8');
}

/** At most one output may take stdout; returns whether one does (the terminal summary then stays off). */
export function claimStdout(options: Record<string, string | undefined>): boolean {
  const claims = Object.entries(options).filter(([, v]) => v === STDOUT).map(([k]) => k);
  if (claims.length > 1) throw new UsageError(`only one output can go to stdout (-), not ${claims.join(' and ')}`);
  return claims.length === 1;
}
