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

  it('text output for a fully patched build exits 0', async () => {
    const { out, code } = await run('15.02.1118.020');
    expect(out).toMatch(/ProxyLogon\s+fixed/);
    expect(out).toContain('Nov22SU');
    expect(code).toBeUndefined();
  });

  it('rejects garbage with a usage error', async () => {
    await expect(run('not-a-build')).rejects.toBeInstanceOf(UsageError);
  });
});
