// Files that ship with exhunt (data/, package.json) and how this copy runs: from the package folder (npm, a
// clone), or as the single-file executable (Node SEA, built by scripts/release.mjs), where they are assets inside
// the executable and nothing is read from beside it.
import { readFileSync } from 'node:fs';

/** The part of node:sea used here (Node 20.12+). */
interface Sea {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

function seaApi(): Sea | null {
  // Only the CommonJS bundle inside the executable has `require`; the npm package is ES modules.
  if (typeof require !== 'function') return null;
  try {
    const sea = require('node:sea') as Sea;
    return sea.isSea() ? sea : null;
  } catch {
    return null; // Node before 20.12 has no node:sea
  }
}

const SEA = seaApi();

/** True in the single-file executable. */
export const SINGLE_FILE = SEA !== null;

/** Set by scripts/bundle.mjs in the CLI bundle (dist/cli/): the package root from there. */
declare const EXHUNT_BUNDLE_ROOT: string | undefined;
/** The package root from this module: dist/packaged.js and src/packaged.ts are one folder down. */
const ROOT_FROM_HERE = typeof EXHUNT_BUNDLE_ROOT === 'string' ? EXHUNT_BUNDLE_ROOT : '../';

/** A file of the package by its path from the package root (`data/iocs/ips.csv`). */
export function packageBytes(rel: string): Buffer {
  if (SEA) return Buffer.from(SEA.getAsset(rel));
  // Resolved here, not at load: the executable's bundle has no import.meta.url.
  return readFileSync(new URL(`${ROOT_FROM_HERE}${rel}`, import.meta.url));
}

export function packageText(rel: string): string {
  return packageBytes(rel).toString('utf8');
}

/** The bundled worker-thread script inside the executable (scripts/release.mjs adds it), else null. */
export function singleFileWorker(): string | null {
  return SEA ? Buffer.from(SEA.getAsset('exhunt-worker.cjs')).toString('utf8') : null;
}
