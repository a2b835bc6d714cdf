// Where real public samples live. Samples whose licence allows it are vendored under test/fixtures/external/;
// the rest are read from ../shared/data/external (CI has it) and their tests skip, saying why, when it is absent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..');
export const VENDORED_EXTERNAL = join(REPO, 'test', 'fixtures', 'external');
export const SHARED_EXTERNAL = join(REPO, '..', 'shared', 'data', 'external');

/** Absolute path of a sample (path relative to data/external): the vendored copy if present, else ../shared. */
export function external(rel: string): string {
  const vendored = join(VENDORED_EXTERNAL, rel);
  return existsSync(vendored) ? vendored : join(SHARED_EXTERNAL, rel);
}

export function hasExternal(rel: string): boolean {
  return existsSync(external(rel));
}

/** Why a test on `rel` cannot run here, or undefined when it can. */
export function missingExternal(rel: string): string | undefined {
  return hasExternal(rel) ? undefined : `sample ${rel} is not vendored and ../shared/data/external is not beside this clone`;
}

/** Call first in a test: skips it with the reason when the sample is absent. */
export function needExternal(ctx: { skip: (condition: boolean, note?: string) => void }, rel: string): string {
  const why = missingExternal(rel);
  ctx.skip(why !== undefined, why);
  return external(rel);
}
