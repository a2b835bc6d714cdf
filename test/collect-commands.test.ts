// What `exhunt collect` gathers by running commands (issue #11: the inputs of the configuration controls), and the
// contract that keeps it safe: fixed PowerShell scripts by full path, a fixed argument array, no shell, nothing
// from evidence; the same pipelines and file names as collector/Collect-ExchangeEvidence.ps1; on an image or
// another platform, one manifest error per output saying it was not gathered and why.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { collect } from '../src/response/collect.js';
import { argsFor, gatherCommands, powershellPath, QUERIES, REG_EXPORT, scriptFor, type Run } from '../src/response/collect-commands.js';
import { exhunt } from './support/cli.js';

const PS1 = join('collector', 'Collect-ExchangeEvidence.ps1');
const FIXTURES = join('test', 'fixtures', 'exchange-config');
/** What PowerShell prints for the registry query on a server with Extended Protection suppressed (the .reg layout). */
const REG = 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa]\r\n"SuppressExtendedProtection"=dword:00000001\r\n\r\n';

const decode = (args: readonly string[]): string => Buffer.from(args[args.length - 1], 'base64').toString('utf16le');

describe('the commands exhunt collect runs', () => {
  it('are the PowerShell collector pipelines, under the same names', async () => {
    const ps1 = (await readFile(PS1, 'utf8')).split(/\r?\n/).map((l) => l.trim());
    for (const q of QUERIES.filter((x) => x.name !== 'registry-exposure.reg')) {
      const at = ps1.findIndex((l) => l.startsWith(`Add-CommandOutput '${q.name}'`));
      expect(at, q.name).toBeGreaterThan(0);
      expect(ps1[at + 1], q.name).toBe(q.pipeline);
    }
    // The registry export is the collector's Get-RegExport body, line for line.
    const start = ps1.indexOf('function Get-RegExport {');
    const end = ps1.findIndex((l, i) => i > start && l === '$lines -join "`r`n"');
    expect(start).toBeGreaterThan(0);
    expect(ps1.slice(start + 1, end + 1)).toEqual(REG_EXPORT.split('\n'));
    expect(QUERIES.map((q) => q.name).sort()).toEqual(['Get-AuthServer.json', 'Get-ExchangeServer.json', 'Get-HybridConfiguration.json', 'Get-OrganizationConfig.json', 'Get-OwaVirtualDirectory.json', 'Get-SettingOverride.json', 'registry-exposure.reg']);
  });

  it('run Windows PowerShell by full path with a fixed argument array and the script encoded', () => {
    expect(powershellPath({ SystemRoot: 'C:\\Windows' })).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    for (const q of QUERIES) {
      const args = argsFor(q);
      expect(args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
      expect(args[5]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(decode(args)).toBe(scriptFor(q));
      // The server name is read by PowerShell; the script is a constant of the program.
      expect(scriptFor(q)).toContain(q.pipeline);
      expect(scriptFor(q)).toMatch(/^\$ErrorActionPreference = "Stop"\n\[Console\]::OutputEncoding = New-Object System\.Text\.UTF8Encoding\(\$false\)\n/);
    }
    const src = readFile(join('src', 'response', 'collect-commands.ts'), 'utf8');
    return src.then((s) => {
      expect(s).toContain('shell: false');
      expect(s).not.toMatch(/\bexec\(|execSync|spawn\(/);
    });
  });

  it('off Windows or from an image: nothing is run, and each output is named as not gathered', async () => {
    let ran = 0;
    const run: Run = async () => {
      ran++;
      return { stdout: Buffer.alloc(0), stderr: '', code: 0 };
    };
    for (const [live, platform, why] of [
      [true, 'linux', 'not gathered: exhunt collect runs Exchange cmdlets and reads the registry only on Windows (this is linux)'],
      [false, 'win32', 'not gathered: the source is an image or a copied drive, and these come only from the running server'],
    ] as const) {
      const r = await gatherCommands({ live, platform, run });
      expect(r.outputs).toEqual([]);
      expect(r.errors.map((e) => e.original)).toEqual(QUERIES.map((q) => q.original));
      expect(r.errors[1].error).toBe(`${why}; run collector/Collect-ExchangeEvidence.ps1 on the server, or save this output as commands/Get-SettingOverride.json (docs/exposure.md)`);
    }
    expect(ran).toBe(0);
  });
});

describe('collect live on a Windows Exchange server (commands answered from documented outputs), then scan', () => {
  let dir: string;
  const calls: Array<{ file: string; args: readonly string[] }> = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exhunt-collect-cmd-'));
    const root = join(dir, 'C');
    await mkdir(join(root, 'Windows'), { recursive: true });
    await mkdir(join(root, 'inetpub', 'wwwroot'), { recursive: true });
    await writeFile(join(root, 'inetpub', 'wwwroot', 'iisstart.htm'), '<html></html>');
    const answers = new Map<string, Buffer>();
    for (const q of QUERIES) answers.set(scriptFor(q), q.name === 'registry-exposure.reg' ? Buffer.from(REG) : await readFile(join(FIXTURES, q.name)));
    // A failing cmdlet (the snap-in loads, the cmdlet throws): exit 1 and a message on stderr.
    answers.delete(scriptFor(QUERIES.find((q) => q.name === 'Get-AuthServer.json')!));
    const run: Run = async (file, args) => {
      calls.push({ file, args });
      const out = answers.get(decode(args));
      return out ? { stdout: out, stderr: '', code: 0 } : { stdout: Buffer.alloc(0), stderr: "Get-AuthServer : The term 'Get-AuthServer' is not recognized\r\nAt line:5 char:1", code: 1 };
    };
    await collect({ volumes: [{ drive: 'C', root }], out: join(dir, 'case'), host: 'EX01', live: true, maxBytes: null, commandLine: 'exhunt collect --live', commands: { platform: 'win32', run } });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves each output as commands/<name> (kind command) and names the one that failed', async () => {
    expect(calls).toHaveLength(QUERIES.length);
    expect(new Set(calls.map((c) => c.file))).toEqual(new Set([powershellPath()]));
    const m = JSON.parse(await readFile(join(dir, 'case', 'manifest.json'), 'utf8'));
    const cmds = m.files.filter((f: { kind: string }) => f.kind === 'command');
    expect(cmds.map((f: { path: string }) => f.path).sort()).toEqual(QUERIES.filter((q) => q.name !== 'Get-AuthServer.json').map((q) => `commands/${q.name}`).sort());
    expect(await readFile(join(dir, 'case', 'commands', 'registry-exposure.reg'), 'utf8')).toBe(REG);
    expect(m.errors).toContainEqual({ original: 'Get-AuthServer | ConvertTo-Json', error: "command failed (exit 1): Get-AuthServer : The term 'Get-AuthServer' is not recognized" });
    expect(exhunt(['verify', join(dir, 'case')]).code).toBe(0);
  });

  it('the scan reads them: the configuration controls are judged from the collected outputs', () => {
    const r = exhunt(['scan', join(dir, 'case'), '--json', '-']);
    const h = (JSON.parse(r.stdout) as ScanReport).hosts[0];
    const sources = new Set(h.facts.map((f) => f.source.path));
    for (const name of ['Get-SettingOverride.json', 'Get-OrganizationConfig.json', 'Get-ExchangeServer.json', 'registry-exposure.reg']) expect(sources, name).toContain(`commands/${name}`);
    const ep = h.findings.find((f) => f.rule === 'EXP-EP');
    expect(ep?.evidence.state).toBe('off');
    expect(JSON.stringify(ep?.evidence)).toContain('SuppressExtendedProtection');
  });
});
