// `scan`'s exit code, the first that applies: 1 attack, 3 exposure only, 4 some host could not be judged
// (insufficient-evidence, or its build's security update level unknown), 0 all clean (review10 R11).
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../src/model.js';
import type { HostDigest } from '../src/report/summary.js';
import { exitCodeFor } from '../src/cli/commands/scan.js';

function host(verdict: Verdict, extra: Partial<HostDigest> = {}): HostDigest {
  return {
    name: 'MAIL01', verdict, stage: 'none', reasons: [], coverage: [], counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
    attack: { first: null, last: null }, findings: 0, skipped: 0, exposed: false, undecided: false, ...extra,
  };
}

describe('scan exit codes', () => {
  it('1 > 3 > 4 > 0', () => {
    expect(exitCodeFor([host('clean')])).toBe(0);
    expect(exitCodeFor([])).toBe(0);
    expect(exitCodeFor([host('insufficient-evidence')])).toBe(4);
    expect(exitCodeFor([host('clean'), host('insufficient-evidence')])).toBe(4);
    expect(exitCodeFor([host('clean', { undecided: true })])).toBe(4);
    expect(exitCodeFor([host('insufficient-evidence'), host('clean', { exposed: true })])).toBe(3);
    expect(exitCodeFor([host('insufficient-evidence', { exposed: true, undecided: true })])).toBe(3);
    for (const v of ['compromised', 'attempted', 'suspicious'] as const) expect(exitCodeFor([host('insufficient-evidence', { exposed: true }), host(v)])).toBe(1);
  });
});
