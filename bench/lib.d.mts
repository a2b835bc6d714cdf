// Types for what the TypeScript tests import from bench/lib.mjs (test/support/rng.ts).
/** mulberry32: a uniform number in [0, 1) per call, the same sequence for the same seed. */
export function mulberry32(seed: number): () => number;
