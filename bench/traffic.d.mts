// Types for what the TypeScript tests import from bench/traffic.mjs.
import type { Rng } from './lib.mjs';
/** The IIS W3C layout of the generated lines (without `#Fields: `). */
export const IIS_FIELDS: string;
/** Pools of realistic front-end and back-end IIS lines. */
export function iisPools(r: Rng, n: number): { front: string[]; back: string[] };
/** Real attack lines in the default layout. */
export function iisAttacks(r: Rng): string[];
