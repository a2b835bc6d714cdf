// The build/CVE data files row by row: every update row assesses as itself, SE is never 2019, and the KEV dates
// agree with the vendored CISA catalog.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assessBuildString, ALL_FAMILIES, CUS, CVES, cveState, fixFor, parseBuild, SOURCES, SUS } from '../src/builds/index.js';
import { loadBuildData } from '../src/builds/data.js';

const DAY = '2026-12-03';

describe('every update row', () => {
  for (const row of SUS) {
    it(`${row.product} ${row.cu} ${row.su} ${row.build}`, () => {
      const a = assessBuildString(row.build, { asOf: DAY })!;
      expect(a.productId).toBe(row.product);
      expect(a.cu).toBe(row.cu);
      expect(a.su).toBe(row.su);
      // Every CVE this update fixes on this CU is fixed at its build and open one revision below (when that is on the CU).
      const fixedHere = a.cves.filter((c) => c.fix?.update === row.su && c.fix.cu === row.cu);
      for (const c of fixedHere) expect(c.buildState, c.cve).toBe('fixed');
      const below = parseBuild(row.build)!;
      const prev = assessBuildString(`${below.major}.${below.minor}.${below.build}.${below.revision - 1}`, { asOf: DAY })!;
      for (const c of fixedHere) {
        const p = prev.cves.find((x) => x.cve === c.cve)!;
        expect(['vulnerable', 'unknown'], `${c.cve} one revision below ${row.build}`).toContain(p.buildState);
      }
      for (const s of row.sources) expect(SOURCES[s], s).toBeTruthy();
    });
  }
  for (const [product, rows] of Object.entries(CUS)) {
    it(`${product}: every CU row is found as itself`, () => {
      for (const cu of rows) expect(assessBuildString(cu.build, { asOf: DAY })!.cu).toBe(cu.cu);
    });
  }
});

describe('Exchange SE versus Exchange 2019', () => {
  it('15.2 with build >= 2562 is SE, below is 2019, in every spelling', () => {
    for (const s of ['15.2.2562.17', '15.02.2562.049', 'Version 15.2 (Build 2562.17)']) expect(assessBuildString(s)!.product).toBe('Exchange SE');
    for (const s of ['15.2.1748.55', '15.02.1748.010', 'Version 15.2 (Build 1748.10)']) expect(assessBuildString(s)!.product).toBe('Exchange 2019');
  });

  it('same revision, different product: .46 is Aug26SU on SE, Jun26SU on CU15, Sep26SU on CU14', () => {
    expect(assessBuildString('15.2.2562.46')!.su).toBe('Aug26SU');
    expect(assessBuildString('15.2.1748.46')!.su).toBe('Jun26SU');
    expect(assessBuildString('15.2.1544.46')!.su).toBe('Sep26SU');
  });

  it('SE-only November 2026 CVEs: SE RTM Oct26SU is vulnerable, 2019 is not assessed by Microsoft any more', () => {
    const se = assessBuildString('15.2.2562.56', { asOf: DAY })!;
    expect(se.cves.find((c) => c.cve === 'CVE-2026-118151')!.state).toBe('vulnerable');
    expect(se.install).toContain('Nov26SU');
    const e19 = assessBuildString('15.2.1748.55', { asOf: DAY })!;
    expect(e19.cves.find((c) => c.cve === 'CVE-2026-118151')!.state).toBe('not-affected');
    expect(e19.support!.text).toContain('move to Exchange SE');
  });

  it('SE RTM includes every 2019 fix released before it (ProxyLogon, Nov23SU)', () => {
    const a = assessBuildString('15.2.2562.17', { asOf: DAY })!;
    for (const cve of ['CVE-2021-26855', 'CVE-2023-36439', 'CVE-2024-26198']) expect(['fixed', 'not-affected']).toContain(a.cves.find((c) => c.cve === cve)!.buildState);
    expect(a.cves.find((c) => c.cve === 'CVE-2023-36439')!.state).toBe('fixed');
  });
});

describe('CVE data', () => {
  it('KEV dates match the vendored CISA catalog (CVE-2026-42897 from its CVE record)', () => {
    const kev = JSON.parse(readFileSync(new URL('../data/builds/kev-exchange.json', import.meta.url), 'utf8')) as { vulnerabilities: { cveID: string; dateAdded: string }[] };
    const byId = new Map(kev.vulnerabilities.map((v) => [v.cveID, v.dateAdded]));
    for (const c of CVES) {
      if (byId.has(c.cve)) expect(c.kevAdded, c.cve).toBe(byId.get(c.cve));
      else if (c.cve !== 'CVE-2026-42897') expect(c.kevAdded, c.cve).toBeNull();
    }
    expect(CVES.find((c) => c.cve === 'CVE-2026-42897')!.kevAdded).toBe('2026-05-15');
  });

  it('a bad row names the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-builds-'));
    const src = new URL('../data/builds/', import.meta.url);
    for (const f of readdirSync(src)) copyFileSync(new URL(f, src), join(dir, f));
    const csv = readFileSync(join(dir, 'updates.csv'), 'utf8').replace('15.2.2562.57', '15.2.2562.x');
    writeFileSync(join(dir, 'updates.csv'), csv);
    const line = csv.split('\n').findIndex((l) => l.includes('15.2.2562.x')) + 1;
    expect(() => loadBuildData(`${dir}/`)).toThrow(`data/builds/updates.csv line ${line}: bad build 15.2.2562.x`);
    rmSync(dir, { recursive: true });
  });

  it('every family has a KEV CVE and a fix per supported CU (or configuration only)', () => {
    for (const f of ALL_FAMILIES) expect(f.kevAdded, f.id).not.toBeNull();
    const xss = fixFor('owa-xss-2026', 'E2019')!;
    expect(xss.perCu.find((r) => r.cu === 'CU15')).toMatchObject({ update: 'Jun26SU', build: '15.2.1748.46' });
    expect(xss.perCu.find((r) => r.cu === 'CU13')).toMatchObject({ build: null });
    expect(fixFor('proxylogon', 'E2016')!.perCu.find((r) => r.cu === 'CU20')).toMatchObject({ update: null, build: '15.1.2242.4' });
    expect(fixFor('CVE-2024-21410', 'E2019')!.configOnly).toBe(true);
    expect(fixFor('nope', 'E2019')).toBeNull();
    expect(cveState('owa-xss-2026', parseBuild('15.2.2562.43')!)).toBe('fixed');
    expect(cveState('owa-xss-2026', parseBuild('15.2.2562.41')!)).toBe('vulnerable');
  });
});

describe('scripts/refresh-builds.mjs', () => {
  it('merges Microsoft ExchangeBuildNumbers.csv rows: corrects, appends, keeps rows only other sources know', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-refresh-'));
    const src = new URL('../data/builds/', import.meta.url);
    for (const f of readdirSync(src)) copyFileSync(new URL(f, src), join(dir, f));
    // Microsoft's format: padded and unpadded builds, M/D/YYYY dates, CU names with a "(2023H1)" suffix.
    const ms = join(dir, 'ExchangeBuildNumbers.csv');
    writeFileSync(ms, [
      'Product Name,Build Number,Date,KB,Blog',
      'Exchange 2010 SP3 RU32,14.03.0513.000,3/2/2021,KB5000978,',
      'Exchange 2013 CU23,15.00.1497.002,6/18/2019,KB4489622,https://techcommunity.microsoft.com/x',
      'Exchange 2019 CU13 (2023H1),15.2.1258.12,5/3/2023,KB5020999,',
      'Exchange SE RTM Dec26SU,15.2.2562.60,12/8/2026,KB5999998,',
    ].join('\r\n'));
    const before = readFileSync(join(dir, 'updates.csv'), 'utf8');
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/refresh-builds.mjs', import.meta.url)), ms, '--data', dir], { encoding: 'utf8' });
    expect(out).toBe('added Exchange SE RTM Dec26SU 15.2.2562.60\n');
    const data = loadBuildData(`${dir}/`);
    expect(data.updates.at(-1)).toMatchObject({ product: 'ESE', update: 'Dec26SU', build: '15.2.2562.60', released: '2026-12-08', kb: 'KB5999998', sources: ['MS'] });
    expect(data.updates.length).toBe(before.trim().split('\n').length); // header + rows before = rows after
    rmSync(dir, { recursive: true });
  });
});
