import { describe, expect, it } from 'vitest';
import { assessBuildString, compareBuild, CUS, parseBuild, SUS } from '../src/builds/index.js';
import { bestBuild, exposureFindings } from '../src/rules/exposure.js';
import type { Fact } from '../src/model.js';

function states(build: string, cuOnly = false) {
  const a = assessBuildString(build, { cuOnly });
  if (!a) throw new Error(`not assessed: ${build}`);
  return { a, pl: a.families.proxylogon.state, ps: a.families.proxyshell.state, pns: a.families.proxynotshell.state };
}

function fact(value: string, time: string | null, origin = '#Version', path = 'Logging/HttpProxy/Owa/HttpProxy_2021030100-1.LOG'): Fact {
  return { kind: 'build', value, origin, time, source: { path, line: 1 } };
}

describe('parseBuild', () => {
  it('accepts every spelling seen in the wild', () => {
    const expected = { major: 15, minor: 1, build: 2176, revision: 2 };
    expect(parseBuild('15.1.2176.2')).toMatchObject({ ...expected, precision: 'full' });
    expect(parseBuild('15.01.2176.002')).toMatchObject({ ...expected, precision: 'full' });
    expect(parseBuild(' Version 15.1 (Build 2176.2) ')).toMatchObject({ ...expected, precision: 'cu' });
    expect(parseBuild('15,1,2176,2')).toMatchObject({ ...expected, precision: 'full' });
  });

  it('marks CU-only spellings: revision zeroed, three-part, OWA paths', () => {
    expect(parseBuild('15.01.2375.000')).toMatchObject({ build: 2375, precision: 'cu' });
    expect(parseBuild('15.2.792')).toMatchObject({ build: 792, precision: 'cu' });
    expect(parseBuild('/owa/auth/15.2.792/themes/resources/favicon.ico')).toMatchObject({ build: 792, precision: 'cu' });
    // Exchange 2010 rollups really end in .0
    expect(parseBuild('14.3.513.0')).toMatchObject({ precision: 'full' });
  });

  it('rejects non-builds, bogus versions and oversized input', () => {
    for (const s of ['', 'hello', '0.00.0003.000', '15.0.0.0.1', '16.0.1.2', '15.1.2176.2; rm -rf /', '1'.repeat(400)]) {
      expect(parseBuild(s)).toBeNull();
    }
  });

  it('compares numerically, not as strings', () => {
    expect(compareBuild(parseBuild('15.1.2176.9')!, parseBuild('15.1.2176.12')!)).toBeLessThan(0);
    expect(compareBuild(parseBuild('15.01.2176.009')!, parseBuild('15.1.2176.9')!)).toBe(0);
  });
});

describe('table', () => {
  it('every row parses, CUs ascend, and every SU belongs to a tabled CU of its product', () => {
    for (const rows of Object.values(CUS)) {
      for (let i = 1; i < rows.length; i++) expect(compareBuild(parseBuild(rows[i - 1].build)!, parseBuild(rows[i].build)!)).toBeLessThan(0);
    }
    for (const su of SUS) {
      const cu = CUS[su.product].find((r) => r.cu === su.cu);
      expect(cu, `${su.product} ${su.cu}`).toBeDefined();
      expect(parseBuild(su.build)!.build).toBe(parseBuild(cu!.build)!.build);
      expect(su.sources.length).toBeGreaterThan(0);
    }
  });
});

describe('assessBuild', () => {
  it('15.1.2176.2 (E2016 CU19 RTM) is exposed to all three families; advice: CU23 and its newest update, family remedies per SU', () => {
    const { a, pl, ps, pns } = states('15.1.2176.2');
    expect([a.product, a.cu, pl, ps, pns]).toEqual(['Exchange 2016', 'CU19', 'vulnerable', 'vulnerable', 'vulnerable']);
    expect(a.install).toContain('Upgrade to Exchange 2016 CU23');
    expect(a.families.proxyshell.remedy).toContain('May21SU');
    expect(a.families.proxynotshell.remedy).toContain('CU23');
  });

  it('uses the exact SU boundaries per CVE', () => {
    expect(states('15.1.2176.8').pl).toBe('vulnerable');
    expect(states('15.01.2176.009')).toMatchObject({ pl: 'fixed', ps: 'vulnerable' });
    // Apr21SU closes the pre-auth ProxyShell CVEs; CVE-2021-31207 waits for May21SU.
    const apr = states('15.1.2176.12').a.families.proxyshell.cves;
    expect(apr.map((c) => c.state)).toEqual(['fixed', 'fixed', 'vulnerable']);
    expect(states('15.1.2176.14').ps).toBe('fixed');
    expect(states('15.2.1118.19').pns).toBe('vulnerable');
    expect(states('15.2.1118.20')).toMatchObject({ pl: 'fixed', ps: 'fixed', pns: 'fixed' });
    expect(states('15.0.1497.44')).toMatchObject({ pl: 'fixed', ps: 'fixed', pns: 'fixed' });
    expect(states('15.0.1497.42').pns).toBe('vulnerable');
  });

  it('CUs released after a fix are fixed whatever the SU; CUs without a fixing SU are vulnerable', () => {
    expect(states('15.1.2242.4')).toMatchObject({ pl: 'fixed', ps: 'vulnerable' });
    expect(states('15.2.922.7')).toMatchObject({ pl: 'fixed', ps: 'fixed', pns: 'vulnerable' });
    expect(states('15.2.1258.12')).toMatchObject({ pl: 'fixed', ps: 'fixed', pns: 'fixed' });
    expect(states('15.2.2562.17').a.product).toBe('Exchange SE');
    expect(states('15.1.1261.35')).toMatchObject({ pl: 'vulnerable', ps: 'vulnerable', pns: 'vulnerable' });
  });

  it('a CU-only build is never "fixed" unless the CU itself postdates the fix', () => {
    const cu19 = states('Version 15.1 (Build 2176.2)');
    expect(cu19).toMatchObject({ pl: 'unknown', ps: 'unknown', pns: 'vulnerable' });
    expect(cu19.a.notes.join(' ')).toContain('SU level unknown');
    expect(states('15.01.2375.000')).toMatchObject({ pl: 'fixed', ps: 'fixed', pns: 'unknown' });
    expect(states('15.1.2176.9', true).pl).toBe('unknown');
  });

  it('E2016 CU8/CU9: builds between the CSS-Exchange and Microsoft values are unknown, with both stated', () => {
    expect(states('15.1.1415.7').pl).toBe('vulnerable');
    const mid = states('15.1.1415.8');
    expect(mid.pl).toBe('unknown');
    expect(mid.a.notes.join(' ')).toContain('15.1.1415.10');
    expect(states('15.1.1466.15').pl).toBe('unknown');
    expect(states('15.1.1466.16').pl).toBe('fixed');
  });

  it('Exchange 2010: only CVE-2021-26857, fixed by RU32; other families unknown', () => {
    const old = states('14.3.509.0');
    expect(old).toMatchObject({ pl: 'vulnerable', ps: 'unknown', pns: 'unknown' });
    expect(old.a.families.proxylogon.cves.filter((c) => c.state === 'vulnerable').map((c) => c.cve)).toEqual(['CVE-2021-26857']);
    expect(states('14.3.513.0').pl).toBe('fixed');
  });

  it('E2019 has no UM role: CVE-2021-26857 is not-affected', () => {
    const cves = states('15.2.792.3').a.families.proxylogon.cves;
    expect(cves.find((c) => c.cve === 'CVE-2021-26857')!.state).toBe('not-affected');
  });

  it('an unknown build between CUs is unknown, not guessed', () => {
    expect(states('15.2.999.1')).toMatchObject({ pl: 'unknown', ps: 'unknown', pns: 'unknown' });
  });
});

describe('exposure', () => {
  const since = '2021-01-01T00:00:00Z';

  it('bestBuild prefers full builds over CU-only ones, then the newest', () => {
    const facts = [
      fact('Version 15.1 (Build 2176.2)', '2021-06-01T00:00:00Z', 'AdminDisplayVersion'),
      fact('15.01.2176.002', '2021-02-01T00:00:00Z'),
      fact('15.01.2176.009', '2021-03-10T00:00:00Z'),
      fact('15.01.2375.000', '2021-12-01T00:00:00Z', 'TargetServerVersion'),
      { ...fact('15.1.2176.2', null), kind: 'hostname' as const },
    ];
    expect(bestBuild(facts)!.assessment.build).toBe('15.1.2176.9');
    expect(bestBuild([facts[0]])!.build.precision).toBe('cu');
    expect(bestBuild([])).toBeNull();
  });

  it('high when the host ran a ProxyLogon-vulnerable build during the window, even if patched later', () => {
    const [f] = exposureFindings([fact('15.01.2176.002', '2021-02-01T00:00:00Z', '#Version', 'a.log'), fact('15.01.2176.014', '2021-06-01T00:00:00Z', '#Version', 'b.log')], since);
    expect(f).toMatchObject({ rule: 'EXP-01', kind: 'exposure', severity: 'high', source: { path: 'a.log' }, time: '2021-02-01T00:00:00Z' });
    expect(f.cves).toContain('CVE-2021-26855');
    expect(f.evidence).toMatchObject({ build: '15.1.2176.2', product: 'Exchange 2016', cu: 'CU19', current_build: '15.1.2176.14' });
    expect(f.evidence.families).toMatchObject({ proxylogon: 'vulnerable' });
  });

  it('the build in force when the window opened counts; builds replaced before it do not', () => {
    const facts = [fact('15.1.2176.2', '2020-12-20T00:00:00Z'), fact('15.1.2176.14', '2021-05-20T00:00:00Z')];
    expect(exposureFindings(facts, '2021-03-01T00:00:00Z')[0].severity).toBe('high');
    expect(exposureFindings(facts, '2021-06-01T00:00:00Z')[0].severity).toBe('medium'); // ProxyNotShell still open on CU19
  });

  it('info when fixed for every family and every KEV CVE; low when only the CU is known', () => {
    expect(exposureFindings([fact('15.2.2562.57', '2026-11-20T00:00:00Z')], since)[0]).toMatchObject({ severity: 'info', cves: [] });
    const cuOnly = exposureFindings([fact('15.01.2507.000', '2026-01-01T00:00:00Z', 'TargetServerVersion')], since)[0];
    expect(cuOnly.severity).toBe('low');
    expect(cuOnly.evidence.families).toMatchObject({ proxylogon: 'fixed', proxynotshell: 'unknown' });
  });

  it('treats an owa-auth folder origin as CU-only even with four parts', () => {
    const f = exposureFindings([fact('15.1.2176.9', null, 'owa/auth folder')], since)[0];
    expect(f.evidence.precision).toBe('cu');
    expect(f.severity).toBe('medium'); // CU19 has no ProxyNotShell SU: definite, but not pre-auth
  });

  // review10 R12: `exhunt build` and `exhunt check` call these builds exposed to a KEV CVE; so must scan.
  it('a build fixed for the three families but open to a KEV CVE is medium (CVE-2026-42897), high when pre-auth (CVE-2024-21410)', () => {
    const se = exposureFindings([fact('15.2.2562.37', '2026-11-15T10:00:00Z')], since)[0];
    expect(se).toMatchObject({ severity: 'medium', cves: ['CVE-2026-42897'], title: 'Exchange build open to a CVE exploited in the wild (CISA KEV)' });
    expect(se.evidence.kev_open).toEqual(['CVE-2026-42897']);
    expect(se.summary).toMatch(/open now to a CVE exploited in the wild \(CISA KEV\): CVE-2026-42897 \(KEV 2026-05-15; fixed by Jun26SU 15\.2\.2562\.\d+\)/);
    expect(exposureFindings([fact('15.2.1118.20', '2023-01-01T00:00:00Z')], since)[0]).toMatchObject({ severity: 'medium', cves: ['CVE-2026-42897'] });
    // 2019 CU12 May22SU cannot run Extended Protection: NTLM relay (pre-auth) stays open whatever the configuration.
    const noEp = exposureFindings([fact('15.2.1118.9', '2022-06-01T00:00:00Z')], since)[0];
    expect(noEp.cves).toEqual(expect.arrayContaining(['CVE-2024-21410', 'CVE-2026-42897', 'CVE-2022-41040']));
    expect(noEp.evidence.kev_open).toEqual(expect.arrayContaining(['CVE-2024-21410']));
    // CU only: the SU level (and so Extended Protection) is unknown, but no Jun26SU exists for Exchange 2016 CU22.
    const cu22 = exposureFindings([fact('15.01.2375.000', '2022-01-01T00:00:00Z', 'TargetServerVersion')], since)[0];
    expect(cu22.evidence.kev_open).toEqual(['CVE-2026-42897']);
    expect(cu22.severity).toBe('medium');
  });

  it('no build facts, no finding', () => {
    expect(exposureFindings([fact('garbage', null)], since)).toEqual([]);
  });
});
