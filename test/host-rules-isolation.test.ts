// A host rule that throws (a bug, e.g. an undeclared grade) costs its own findings, named in skipped: never the
// host's other results nor the rest of the run (review11 R15: one Exchange 2013 registry export ended a fleet scan
// with exit 2 and no report for any host).
import { describe, expect, it } from 'vitest';
import type { RawFinding } from '../src/model.js';
import { applyHostRules, type HostRule } from '../src/rules/host.js';
import { defaultRuleSet } from '../src/rules/ruleset.js';

const finding = { rule: 'WS-40', severity: 'high', summary: 'x' } as unknown as RawFinding;
const ctx = { facts: [], since: undefined, locate: () => null, paths: [] } as unknown as Parameters<typeof applyHostRules>[2];

describe('host rules', () => {
  it('a throwing rule leaves the findings as they were and is named; the rules after it still run', () => {
    const meta = defaultRuleSet().hostRules[0].emits;
    const broken: HostRule = { emits: [{ ...(meta[0] ?? {}), id: 'EXP-XX' } as HostRule['emits'][number]], does: 'breaks', apply: () => { throw new Error('rule EXP-XX reported the undeclared grade EXP-XX off low'); } };
    const adds: HostRule = { emits: [], does: 'adds one', apply: (list) => [...list, { ...finding, rule: 'WS-41' } as RawFinding] };
    const { findings, failed } = applyHostRules([broken, adds], [finding], ctx);
    expect(findings.map((f) => f.rule)).toEqual(['WS-40', 'WS-41']);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('EXP-XX');
    expect(failed[0]).toContain('undeclared grade');
  });

  it('the default rules run without failing on a host with nothing found', () => {
    expect(applyHostRules(defaultRuleSet().hostRules, [], ctx)).toEqual({ findings: [], failed: [] });
  });
});
