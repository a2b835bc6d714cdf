// src/index.ts is the library front door: a program can scan, render and assess through it alone.
import { describe, expect, it } from 'vitest';
import * as exhunt from '../src/index.js';

describe('library front door (src/index.ts)', () => {
  it('scans an example host, renders JSON and HTML, and assesses a build, with nothing else imported', async () => {
    const report = await exhunt.scan({ paths: ['examples/evidence/mail01-compromised'], jobs: 1 });
    expect(report.hosts[0].verdict).toBe('compromised');
    expect(JSON.parse(exhunt.renderJson(report)).schema).toBe('exhunt.scan/1');
    expect(exhunt.renderHtml(report).slice(0, 15).toLowerCase()).toBe('<!doctype html>');
    expect(exhunt.assessBuildString('15.1.2176.2')?.families.proxylogon.state).toBe('vulnerable');
    const rules = exhunt.defaultRuleSet();
    expect(rules.recordRules.length).toBeGreaterThan(30);
    expect(exhunt.laneOfFormat('iis')).toBe('IIS');
    // Findings of rules adapted from DRL rules carry their credit; Sigma import, collection and verification too.
    const credited = report.hosts[0].findings.find((f) => exhunt.ruleCredits(f.rule).length > 0);
    expect(credited?.credits?.[0].license).toBe('DRL-1.1');
    expect(exhunt.sigmaRules([]).rules).toEqual([]);
    expect(typeof exhunt.collect).toBe('function');
    expect(typeof exhunt.verifyCase).toBe('function');
    expect(typeof exhunt.checkTarget).toBe('function');
  });
});
