// Types for what the TypeScript tests import from bench/lib.mjs (test/support/rng.ts, the generator helpers).
/** mulberry32: a uniform number in [0, 1) per call, the same sequence for the same seed. */
export function mulberry32(seed: number): () => number;
/** The benches' generator helpers (bench/traffic.mjs draws realistic log lines with them). */
export interface Rng {
  int(lo: number, hi: number): number;
  hex(n: number): string;
  pick<T>(list: readonly T[]): T;
  guid(): string;
  alnum(n: number): string;
}
export function rng(seed: number): Rng;
