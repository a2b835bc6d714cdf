// The file sweep reads the build of a copied ExSetup.exe (VS_FIXEDFILEINFO), so a copy of the Exchange Bin folder
// without any log still tells EXP-01 which update is missing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';
import { fakePe } from './support/pe.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-pe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ExSetup.exe in the evidence', () => {
  it('gives a build fact and the exposure finding for that build', async () => {
    const bin = join(dir, 'mail09', 'C', 'Program Files', 'Microsoft', 'Exchange Server', 'V15', 'Bin');
    mkdirSync(bin, { recursive: true });
    // Exchange 2016 CU19 without the March 2021 SU (15.1.2176.2): open to ProxyLogon.
    writeFileSync(join(bin, 'ExSetup.exe'), fakePe(15, 1, 2176, 2));
    const { hosts } = await scan({ paths: [join(dir, 'mail09')], jobs: 1 });
    const builds = hosts[0].facts.filter((f) => f.kind === 'build');
    expect(builds.map((f) => [f.value, f.origin, f.source.path])).toEqual([['15.1.2176.2', 'ExSetup.exe', 'C/Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe']]);
    const exposure = hosts[0].findings.find((f) => f.rule === 'EXP-01');
    expect(exposure?.evidence.build ?? exposure?.evidence.current_build).toBe('15.1.2176.2');
  });
});
