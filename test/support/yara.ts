// YARA is an optional engine (README "Optional: YARA"): the npm package @litko/yara-x when installed, else the
// `yara` command (Debian package yara; scripts/setup-test-deps.sh installs it, CI runs that). Tests on it skip,
// saying why, when neither is here.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

function yaraEngineHere(): boolean {
  try {
    createRequire(import.meta.url).resolve('@litko/yara-x');
    return true;
  } catch {
    return spawnSync('yara', ['--version'], { stdio: 'ignore' }).status === 0;
  }
}

/** Call first in a test that needs a YARA engine: skips it with the reason when there is none. */
export function needYara(ctx: { skip: (condition: boolean, note?: string) => void }): void {
  const here = yaraEngineHere();
  ctx.skip(!here, 'no YARA engine: neither @litko/yara-x nor the yara command (scripts/setup-test-deps.sh installs it)');
}
