// A `.log` file is left to the log scanners, except in Exchange's web folders, where Exchange writes no logs: there
// it is an attacker's file and the sweep must see it. MSTIC's March 2021 IOC feed lists
// FrontEnd\HttpProxy\owa\auth\Current\google.log (data/iocs/webshell_files.csv).
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { scan } from '../src/engine/scan.js';

const EX = 'Program Files/Microsoft/Exchange Server/V15';

describe('the file sweep and .log files', () => {
  it('sweeps a .log in owa\\auth (a published IOC path) and leaves Exchange\'s own logs to the log scanners', async () => {
    const root = mkdtempSync(join(tmpdir(), 'exhunt-weblog-'));
    const put = (rel: string, text: string) => {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    const dump = `${EX}/FrontEnd/HttpProxy/owa/auth/Current/google.log`;
    put(dump, 'CONTOSO\\jdoe:Summer2024!\r\n');
    // An unrelated text file among Exchange's logs: not the sweep's (it was ignored before and still is).
    const own = `${EX}/Logging/Monitoring/notes.log`;
    put(own, 'CONTOSO\\jdoe:Summer2024!\r\n');
    const host = (await scan({ paths: [root], jobs: 1 })).hosts[0];
    const on = (rel: string) => host.findings.filter((f) => f.source.path.endsWith(rel));
    expect(on(dump).map((f) => f.severity)).toContain('high');
    expect(on(own)).toEqual([]);
    expect(host.stats.files_ignored).toBe(1);
    expect(host.verdict).toBe('compromised');
  });
});
