// The benches' seeded generator (mulberry32, bench/lib.mjs) for randomized tests: the same seed gives the same cases.
export { mulberry32 as rng } from '../../bench/lib.mjs';
