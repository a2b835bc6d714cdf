// The sign-in folders (owa\auth, ecp\auth): what Exchange ships there is not an attacker's data file (WS-37), and
// a data file there keeps its other findings. A `.log` file is left to the log scanners, except in Exchange's web
// folders, where Exchange writes no logs: there it is an attacker's file and the sweep must see it. MSTIC's March
// 2021 IOC feed lists FrontEnd\HttpProxy\owa\auth\Current\google.log (data/iocs/webshell_files.csv).
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { scan } from '../src/engine/scan.js';

const EX = 'Program Files/Microsoft/Exchange Server/V15';

const tree = (files: Record<string, string | Buffer>): string => {
  const root = mkdtempSync(join(tmpdir(), 'exhunt-signin-'));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
  return root;
};

describe('the OWA/ECP sign-in folders', () => {
  it("Exchange's own DLLs there (owaauth.dll, exppw.dll: in the known-good lists) are no data file", async () => {
    const mz = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(510)]);
    const root = tree({ [`${EX}/ClientAccess/Owa/auth/owaauth.dll`]: mz, [`${EX}/ClientAccess/Owa/auth/exppw.dll`]: mz });
    const host = (await scan({ paths: [root], jobs: 1 })).hosts[0];
    expect(host.findings.map((f) => f.rule)).toEqual([]);
  });

  it('a staged dump archive there is still the HAFNIUM staging artefact (PX-09), beside WS-37', async () => {
    const zip = Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1');
    const host = (await scan({ paths: [tree({ [`${EX}/FrontEnd/HttpProxy/owa/auth/lsass.dmp.zip`]: zip })], jobs: 1 })).hosts[0];
    expect(host.findings.map((f) => f.rule).sort()).toEqual(expect.arrayContaining(['PX-09', 'WS-37']));
    expect(host.verdict).toBe('compromised');
  });
});

describe('WS-36, the OWA sign-in form as a stealer wrote it out', () => {
  it("fires on the form's own fields, not on a script that merely builds a username/password query", async () => {
    // The fields owa/auth/logon.aspx posts to /owa/auth.owa, as a stealer appends them to a file.
    const form = 'destination=https%3A%2F%2Fmail.contoso.com%2Fowa%2F&flags=4&forcedownlevel=0&username=CONTOSO%5Calice&password=Autumn2026%21&passwordText=&isUtf8=1\r\n';
    const script = '$uri = "https://crm.contoso.com/api/login?destination=home"\r\n$body = "username=$user&password=$pass"\r\nInvoke-RestMethod -Uri $uri -Method Post -Body $body\r\n';
    const root = tree({ 'Windows/Temp/f.txt': form, 'Users/Public/sync-crm.ps1': script });
    const host = (await scan({ paths: [root], jobs: 1 })).hosts[0];
    expect(host.findings.filter((f) => f.rule === 'WS-36').map((f) => f.source.path)).toEqual(['Windows/Temp/f.txt']);
  });
});

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
