import { afterEach, describe, expect, it } from 'vitest';
import { registerBuild } from '../src/cli/commands/build.js';
import { UsageError } from '../src/cli/errors.js';
import { runCommand } from './support/cli.js';

function run(...args: string[]) {
  return runCommand(registerBuild, ['build', ...args]);
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('exhunt build', () => {
  it('--json prints the documented shape', async () => {
    const { out, code } = await run('15.1.2176.2', '--json');
    const j = JSON.parse(out);
    expect(Object.keys(j).slice(0, 5)).toEqual(['build', 'product', 'cu', 'families', 'install']);
    expect(j).toMatchObject({ build: '15.1.2176.2', product: 'Exchange 2016', cu: 'CU19', families: { proxylogon: 'vulnerable', proxyshell: 'vulnerable', proxynotshell: 'vulnerable' } });
    expect(code).toBe(1);
  });

  it('accepts an unquoted AdminDisplayVersion and reports the SU as unknown', async () => {
    const { out } = await run('Version', '15.1', '(Build', '2176.2)', '--json');
    expect(JSON.parse(out)).toMatchObject({ cu: 'CU19', precision: 'cu', families: { proxylogon: 'unknown' } });
  });

  it('text output for a fully patched build exits 0; the Nov22SU build of 2022 is vulnerable today', async () => {
    const patched = await run('15.02.2562.057', '--date', '2026-12-03');
    expect(patched.out).toMatch(/ProxyLogon fixed/);
    expect(patched.out).toContain('Exchange SE is supported');
    expect(patched.out).toContain('Install        nothing needed');
    expect(patched.code).toBeUndefined();
    const old = await run('15.02.1118.020', '--date', '2026-12-03');
    expect(old.out).toContain('SU             Nov22SU');
    expect(old.out).toMatch(/Exploited in the wild \(CISA KEV\):\n  vulnerable CVE-2026-42897/);
    expect(old.code).toBe(1);
    // As of the day after Nov22SU nothing was known against it: the date decides what "today" means.
    const then = await run('15.02.1118.020', '--date', '2022-11-09');
    expect(then.out).toContain('Exchange 2019 is supported; extended support ends 2025-10-14');
    expect(then.code).toBeUndefined();
  });

  it('groups KEV CVEs first, names the one ESU-only update, and --json adds per-CVE state and source', async () => {
    const { out, code } = await run('15.2.1748.43', '--date', '2026-12-03', '--json');
    const j = JSON.parse(out);
    expect(code).toBe(1);
    expect(j.install_update).toMatchObject({ update: 'Oct26SU', cu: 'CU15', build: '15.2.1748.55', esu: 'P2' });
    expect(j.install).toContain('Extended Security Update');
    expect(j.support).toMatchObject({ state: 'esu-only' });
    const first = j.cves.findIndex((c: { kev: string | null }) => c.kev === null);
    expect(j.cves.slice(0, first).every((c: { kev: string | null }) => c.kev !== null)).toBe(true);
    const xss = j.cves.find((c: { cve: string }) => c.cve === 'CVE-2026-42897');
    expect(xss).toMatchObject({ state: 'vulnerable', kev: '2026-05-15', fix: { update: 'Jun26SU', build: '15.2.1748.46', kb: 'KB5094140' } });
    expect(xss.source.join(' ')).toContain('pull/2574');
    expect(j.cves.find((c: { cve: string }) => c.cve === 'CVE-2024-21410')).toMatchObject({ state: 'unknown', requires: ['Extended Protection on every Exchange virtual directory'] });
  });

  it('rejects a malformed --date', async () => {
    await expect(run('15.2.1748.43', '--date', 'yesterday')).rejects.toBeInstanceOf(UsageError);
  });

  it('rejects garbage with a usage error', async () => {
    await expect(run('not-a-build')).rejects.toBeInstanceOf(UsageError);
  });
});
