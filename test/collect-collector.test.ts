// The Windows collector cannot run here (no PowerShell). What can be checked is checked: a static review of the
// script (syntax balance, defined functions, read-only file access, PS 5.1 syntax, the same target list and manifest
// keys as `exhunt collect`), and the engine-facing contract on a zip built in exactly the collector's layout.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import yazl from 'yazl';
import { caseFacts, incompletePath, readCaseManifest, sealPath } from '../src/evidence/case.js';
import { exhunt } from './support/cli.js';
import { closeZips, listZip } from '../src/evidence/zip.js';
import { iisConfigScanner } from '../src/engine/scanners/iis-config.js';
import { readHead } from '../src/evidence/file.js';
import { EVTX_CHANNELS, TARGETS } from '../src/response/collect.js';
import { custodyRecord } from '../src/response/custody.js';
import { render } from '../src/mitigations/generate.js';
import { PROXYLOGON_EOMT, PROXYNOTSHELL_VERSIONS } from '../src/mitigations/catalogue.js';
import { verifyCase, verifyOk } from '../src/response/verify.js';

const SCRIPT_PATH = join(import.meta.dirname, '../collector/Collect-ExchangeEvidence.ps1');

/**
 * A PowerShell lexer just good enough for review: drops comments, blanks string contents (keeping the code inside
 * `$( )` subexpressions of double-quoted strings), handles here-strings. Returns code and the string literals.
 */
function lexPowerShell(src: string): { code: string; strings: string[] } {
  let code = '';
  const strings: string[] = [];
  let i = 0;
  const atTokenStart = (): boolean => i === 0 || /[\s;({|=,]/.test(src[i - 1]);

  function readDq(): void {
    // at the opening quote
    let text = '';
    i++;
    while (i < src.length) {
      const c = src[i];
      if (c === '`') {
        text += src.slice(i, i + 2);
        i += 2;
      } else if (c === '"' && src[i + 1] === '"') {
        text += '"';
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else if (c === '$' && src[i + 1] === '(') {
        i += 2;
        code += ' (';
        readCode(true);
        code += ') ';
      } else {
        text += c;
        i++;
      }
    }
    strings.push(text);
    code += '""';
  }

  function readCode(inSubexpression: boolean): void {
    let depth = 0;
    while (i < src.length) {
      const c = src[i];
      if (src.startsWith('<#', i)) {
        const end = src.indexOf('#>', i + 2);
        if (end < 0) throw new Error('unterminated block comment');
        i = end + 2;
      } else if (c === '#' && atTokenStart()) {
        while (i < src.length && src[i] !== '\n') i++;
      } else if (src.startsWith("@'", i) && /^@'\r?\n/.test(src.slice(i, i + 4))) {
        const end = src.slice(i).search(/\n'@/);
        if (end < 0) throw new Error('unterminated here-string');
        strings.push(src.slice(i + 2, i + end));
        code += "''";
        i += end + 3;
      } else if (src.startsWith('@"', i) && /^@"\r?\n/.test(src.slice(i, i + 4))) {
        const end = src.slice(i).search(/\n"@/);
        if (end < 0) throw new Error('unterminated here-string');
        strings.push(src.slice(i + 2, i + end));
        code += '""';
        i += end + 3;
      } else if (c === "'") {
        let text = '';
        i++;
        for (;;) {
          if (i >= src.length) throw new Error('unterminated single-quoted string');
          if (src[i] === "'" && src[i + 1] === "'") {
            text += "'";
            i += 2;
          } else if (src[i] === "'") {
            i++;
            break;
          } else text += src[i++];
        }
        strings.push(text);
        code += "''";
      } else if (c === '"') {
        readDq();
      } else if (c === '`') {
        code += src.slice(i, i + 2);
        i += 2;
      } else {
        if (inSubexpression && c === '(') depth++;
        if (inSubexpression && c === ')') {
          if (depth === 0) {
            i++;
            return;
          }
          depth--;
        }
        code += c;
        i++;
      }
    }
    if (inSubexpression) throw new Error('unterminated $( ) subexpression');
  }

  readCode(false);
  return { code, strings };
}

function balanceProblem(code: string): string | null {
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: Array<{ ch: string; line: number }> = [];
  let line = 1;
  for (const ch of code) {
    if (ch === '\n') line++;
    else if ('({['.includes(ch)) stack.push({ ch, line });
    else if (ch in pairs) {
      const open = stack.pop();
      if (!open || open.ch !== pairs[ch]) return `unbalanced ${ch} at code line ${line}`;
    }
  }
  return stack.length > 0 ? `unclosed ${stack[stack.length - 1].ch} from code line ${stack[stack.length - 1].line}` : null;
}

// Windows PowerShell 5.1 built-in cmdlets and the two Exchange cmdlets the script calls directly.
const KNOWN_CMDLETS = new Set([
  'Add-Type', 'Set-StrictMode', 'Join-Path', 'Split-Path', 'Test-Path', 'New-Item', 'New-Object', 'Get-ChildItem', 'Get-Item',
  'Get-ItemProperty', 'Sort-Object', 'ForEach-Object', 'Where-Object', 'Select-Object', 'Format-List', 'Format-Table', 'Out-String',
  'Out-Null', 'Write-Progress', 'Write-Host', 'Get-Service', 'Get-PSSnapin', 'Add-PSSnapin', 'Get-FileHash', 'ConvertTo-Json',
  'Remove-Item', 'Get-ExchangeServer', 'Get-OrganizationConfig',
  // Exchange cmdlets whose output the configuration controls read (src/engine/scanners/exchange-config.ts).
  'Get-SettingOverride', 'Get-AuthServer', 'Get-OwaVirtualDirectory', 'Get-HybridConfiguration', 'Get-ExchangeDiagnosticInfo',
]);

describe('collector script: static review (no PowerShell available here)', () => {
  let src: string;
  let code: string;
  let strings: string[];
  beforeAll(async () => {
    src = await readFile(SCRIPT_PATH, 'utf8');
    ({ code, strings } = lexPowerShell(src));
  });

  it('declares Windows PowerShell 5.1, elevation, strict mode and stop-on-error', () => {
    expect(src.startsWith('#Requires -Version 5.1')).toBe(true);
    expect(src).toMatch(/^#Requires -RunAsAdministrator$/m);
    expect(code).toMatch(/^Set-StrictMode -Version 3\.0$/m);
    expect(code).toMatch(/^\$ErrorActionPreference = ''$/m);
    expect(strings).toContain('Stop');
  });

  it('has balanced (), {} and [] outside strings, comments and here-strings', () => {
    expect(balanceProblem(code)).toBeNull();
    expect(balanceProblem('function f { (')).not.toBeNull(); // the checker itself catches breakage
  });

  it('uses only syntax Windows PowerShell 5.1 understands', () => {
    for (const ps7 of ['??', '?.', '&&', '||', '-Parallel', '-AsHashtable', 'clean {']) expect(code, ps7).not.toContain(ps7);
    expect(code).not.toMatch(/\?\s*[^{]*\s:\s/); // no ternary
  });

  it('defines every function it calls, calls every function it defines, and calls no unknown cmdlet', () => {
    const defined = [...code.matchAll(/^function ([A-Za-z]+-[A-Za-z]+)/gm)].map((m) => m[1]);
    const used = [...code.matchAll(/(?<![\w$.-])([A-Z][a-z]+-[A-Z][A-Za-z0-9]+)(?![\w-])/g)].map((m) => m[1]);
    const unknown = used.filter((u) => !defined.includes(u) && !KNOWN_CMDLETS.has(u));
    expect(unknown).toEqual([]);
    for (const f of defined) expect(code.split(f).length - 1, `${f} is defined but never called`).toBeGreaterThan(1);
  });

  it('never writes, moves, deletes or re-times evidence', () => {
    expect(code).not.toMatch(/\b(Set-Content|Add-Content|Out-File|Set-ItemProperty|Set-Item|Move-Item|Rename-Item|Copy-Item|Clear-Content|Invoke-Expression|Start-Process)\b/i);
    expect(code).not.toMatch(/\biex\b|cmd(\.exe)?\s+\/c/i);
    // Deleted: the collector's work folder, the marker once sealed, and (-Replace) an incomplete case's zip and seal.
    expect([...code.matchAll(/Remove-Item[^\n]*/g)].map((m) => m[0])).toEqual([
      'Remove-Item -LiteralPath $own -Force } }',
      'Remove-Item -LiteralPath $WorkDir -Recurse -Force }',
      'Remove-Item -LiteralPath $Marker -Force }',
    ]);
    expect(code).toContain('foreach ($own in $OutputPath, $SealPath)');
    expect(code).not.toMatch(/\[System\.IO\.File\]::(WriteAllBytes|WriteAllLines|Delete|Move|Copy|Replace|Create\b|SetLastWriteTime|SetLastAccessTime|SetCreationTime|SetAttributes)/);
    expect([...code.matchAll(/\[System\.IO\.File\]::WriteAllText\(([^,]+),/g)].map((m) => m[1])).toEqual(['$script:Marker']);
    expect([...code.matchAll(/\[System\.IO\.File\]::AppendAllText\(([^,]+),/g)].map((m) => m[1])).toEqual(['$SealPath']);
    expect([...code.matchAll(/(\$[\w:.]+)\.(LastWriteTime|LastAccessTime|CreationTime)(Utc)?\s*=(?!=)/g)].map((m) => m[1])).toEqual(['$entry']);
  });

  it('opens sources read-only and shared with their writers; only the new output zip is created', () => {
    expect(code).toContain('$ShareAll = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete');
    const opens = [...code.matchAll(/\[System\.IO\.File\]::Open\(([^)]*)\)/g)].map((m) => m[1]);
    expect(opens).toEqual([
      '$Path, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None',
      '$Source, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $script:ShareAll',
    ]);
    expect(code).toMatch(/Test-IsLink \$child/);
    expect(strings).toContain('symbolic link or junction: not followed');
  });

  it('shows progress, writes a zip with System.IO.Compression and has a size cap', () => {
    expect(code).toContain('Write-Progress');
    expect(code).toContain('New-Object System.IO.Compression.ZipArchive(');
    expect(code).toMatch(/\[long\]\$MaxTotalBytes = 20GB/);
    expect(strings).toContain('size cap of {0} bytes reached: not collected');
  });

  it('collects the same targets, in the same order, as exhunt collect', () => {
    const rows = [...src.matchAll(/@\{ Base = '(\w+)'; Path = '([^']*)'; Kind = '(\w+)'; Filter = '([^']*)'; Top = '([^']*)' \}/g)].map((m) => m.slice(1));
    const evtx = (t: (typeof TARGETS)[number]) => t.path.includes('winevt');
    const expected = TARGETS.filter((t, i) => !evtx(t) || !evtx(TARGETS[i - 1])).map((t) =>
      evtx(t) ? ['evtx', '', 'evtx', '', ''] : [t.base, t.path.join('\\'), t.kind, t.filter?.source ?? '', t.top?.source ?? ''],
    );
    expect(rows).toEqual(expected);
    expect([...src.matchAll(/@\{ File = '([^']+)'; Channel = '([^']+)' \}/g)].map((m) => m[1])).toEqual(EVTX_CHANNELS);
  });

  it('saves what the configuration controls need, under the names the exchange-config scanner reads', () => {
    // Every cmdlet output the scanner knows is saved as JSON through Add-CommandOutput (commands/<name>).
    const saved = [...code.matchAll(/Add-CommandOutput '([^']+)'/g)].map((m) => m[1]);
    for (const name of ['Get-SettingOverride.json', 'Get-OrganizationConfig.json', 'Get-ExchangeServer.json', 'Get-AuthServer.json', 'Get-OwaVirtualDirectory.json', 'Get-HybridConfiguration.json', 'registry-exposure.reg', 'Get-ExchangeDiagnosticInfo-Overrides.xml']) {
      expect(saved.join(' ') + strings.join(' '), name).toContain(name);
    }
    const jsonBlocks = code.split('Add-CommandOutput').filter((b) => /ConvertTo-Json/.test(b));
    expect(jsonBlocks.length).toBeGreaterThanOrEqual(6);
    // Parameters and Server are flattened to plain arrays (MultiValuedProperty would serialise as an object).
    expect(code).toMatch(/n = '' *; e = \{ @\(\$_\.Parameters\) \}/);
    for (const v of ['SuppressExtendedProtection', 'EnableSerializationDataSigning', 'Windows Registry Editor Version 5.00']) expect(strings.join(' '), v).toContain(v);
    expect(strings).toContain('"{0}"=dword:{1:x8}');
  });

  it("saves the server's loaded overrides and copies the IIS global module DLLs at their own path", () => {
    // The scanner reads .Result of the VariantConfiguration Overrides diagnostic, as HealthChecker does.
    expect(src).toContain("Get-ExchangeDiagnosticInfo -Server $server -Process 'Microsoft.Exchange.Directory.TopologyService' -Component 'VariantConfiguration' -Argument 'Overrides').Result");
    const fn = src.slice(src.indexOf('function Add-IisModuleImages'), src.indexOf('function Get-RegExport'));
    expect(fn).toContain("SelectNodes('/configuration/system.webServer/globalModules/add')");
    expect(fn).toContain('[Environment]::ExpandEnvironmentVariables(');
    expect(fn).toContain('Add-EvidenceFile -File $item');
    expect(fn).not.toMatch(/Set-Content|Out-File|Remove-Item|Copy-Item|Move-Item/);
    expect(code).toMatch(/^\s*Add-Configuration\s*\n\s*Add-IisModuleImages\s*$/m);
  });

  it('writes the manifest and custody keys exhunt reads', () => {
    const keys = ['schema', 'server', 'host', 'exchange_path', 'exsetup_version', 'collector', 'tool', 'version', 'command_line', 'user', 'platform', 'live', 'started', 'finished', 'sources', 'drive', 'path', 'size_cap_bytes', 'files', 'errors', 'kind', 'original', 'size', 'sha256', 'mtime', 'ctime', 'atime', 'btime', 'note', 'error'];
    for (const k of keys) expect(code, k).toMatch(new RegExp(`(^|[{;])\\s*${k} = `, 'm'));
    expect(strings).toContain('exhunt.case/1');
    const psCustody = /\$record = \[ordered\]@\{([^}]*)\}/.exec(code.slice(code.indexOf('function Get-CustodyLine')))![1];
    const psKeys = [...psCustody.matchAll(/(\w+) = /g)].map((m) => m[1]);
    const tsKeys = Object.keys(JSON.parse(custodyRecord('collect', FIXTURE_MANIFEST, 'x', 'c', 't')) as object);
    expect(psKeys).toEqual(tsKeys);
  });
});

describe('collector script: the incomplete marker, as exhunt collect writes it', () => {
  let code: string;
  let strings: string[];
  let main: string;
  beforeAll(async () => {
    ({ code, strings } = lexPowerShell(await readFile(SCRIPT_PATH, 'utf8')));
    main = code.slice(code.indexOf('$OutputPath = [System.IO.Path]::GetFullPath($OutputPath)'));
  });
  const at = (text: string, needle: string): number => {
    const i = text.indexOf(needle);
    expect(i, needle).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('names the marker and the seal as exhunt does (evidence/case.ts)', () => {
    expect(code).toContain("$Marker = $OutputPath + ''");
    expect(code).toContain("$SealPath = $OutputPath + ''");
    expect(strings).toContain(incompletePath('/x/EX01.zip').slice('/x/EX01.zip'.length));
    expect(strings).toContain(sealPath('/x/EX01.zip').slice('/x/EX01.zip'.length));
    // The marker record: the keys exhunt collect writes; verify reports its state.
    const rec = /function Set-Marker[^\n]*\n\s*\$record = \[ordered\]@\{([^}]*)\}/.exec(code)![1];
    expect([...rec.matchAll(/(\w+) = /g)].map((m) => m[1])).toEqual(['state', 'started', 'updated', 'command_line', 'pid']);
  });

  it('writes the marker before the zip and any copy, and removes it only after manifest, custody.log and seal', () => {
    const marked = at(main, "Set-Marker ''");
    for (const later of ['New-CaseZip -Path $OutputPath', 'Add-Tree -Root', 'Add-EventLogs (', 'Add-Configuration', "Add-ZipBytes -CasePath '' -Bytes $json"]) expect(at(main, later), later).toBeGreaterThan(marked);
    const seal = at(main, '[System.IO.File]::AppendAllText($SealPath');
    expect(seal).toBeGreaterThan(at(main, "Add-ZipBytes -CasePath '' -Bytes $utf8.GetBytes((Get-CustodyLine $Manifest ''"));
    expect(at(main, '$sealed = $true')).toBeGreaterThan(seal);
    // One removal of the marker, only when sealed, in a finally (reached on Ctrl-C too).
    expect(main.split('Remove-Item -LiteralPath $Marker').length).toBe(2);
    const fin = main.slice(main.lastIndexOf('} finally {'));
    expect(fin).toMatch(/^\} finally \{[^\n]*\n(\s*#[^\n]*\n)?\s*if \(\$sealed\) \{ Remove-Item -LiteralPath \$Marker -Force \}\s*\n\s*else \{/);
    // Otherwise the marker says why, as exhunt collect's does ("failed: … after N files", "interrupted … after N files").
    expect(fin).toContain("Set-Marker ('' -f $why, $Files.Count)");
    expect(strings).toContain('{0} after {1} files');
    expect(strings).toContain('failed: ');
    expect(strings).toContain('interrupted');
  });

  it('ends on a failed write to the case (exit 4), never files it as "not collected" and carries on', () => {
    const zipFile = code.slice(code.indexOf('function Add-ZipFile'), code.indexOf('function Add-EvidenceFile'));
    expect(zipFile).toMatch(/\} catch \{\s*\n\s*\$script:CaseWriteFailed = \$true\s*\n\s*throw\s*\n\s*\} finally \{/);
    const evidence = code.slice(code.indexOf('function Add-EvidenceFile'), code.indexOf('function Add-Tree'));
    expect(evidence).toMatch(/\} catch \{\s*\n\s*if \(\$script:CaseWriteFailed\) \{ throw \}\s*\n\s*Add-CollectionError \$original/);
    expect(main).toMatch(/if \(-not \$sealed\) \{\s*\n[^\n]*\n\s*exit 4\s*\n\s*\}/);
  });

  it('refuses an existing case; -Replace removes only an incomplete one', () => {
    expect(code).toMatch(/\[switch\]\$Replace/);
    const guard = main.slice(0, main.indexOf('$started = '));
    expect(at(guard, 'if (-not (Test-Path -LiteralPath $Marker)) { throw')).toBeLessThan(at(guard, 'if (-not $Replace) { throw'));
    expect(at(guard, 'if (-not $Replace) { throw')).toBeLessThan(at(guard, 'Remove-Item'));
  });
});

// ---- cases shaped as an interrupted or failed PowerShell run leaves them ---------------------------------------

describe('exhunt verify and scan on a case the PowerShell collector left incomplete', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exhunt-collector-incomplete-'));
  });
  afterAll(async () => {
    await closeZips();
    await rm(dir, { recursive: true, force: true });
  });

  /** The first `files` evidence entries of the fixture, as the script's ZipArchive leaves them (closed by finally). */
  async function zipOf(files: number, withManifest: boolean): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    const bodies = [WEB_CONFIG, HTTPPROXY, EVTX, VDIR];
    FIXTURE_MANIFEST.files.slice(0, files).forEach((f, i) => zip.addBuffer(bodies[i], f.path, { mtime: new Date(f.mtime) }));
    if (withManifest) {
      const json = Buffer.from(`${ps51Json(FIXTURE_MANIFEST)}\n`);
      zip.addBuffer(json, 'manifest.json');
      zip.addBuffer(Buffer.from(custodyRecord('collect', FIXTURE_MANIFEST, sha(json), 'EX01.zip', FIXTURE_MANIFEST.collector.finished)), 'custody.log');
    }
    zip.end();
    const parts: Buffer[] = [];
    for await (const c of zip.outputStream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  /** Set-Marker's record: ConvertTo-Json -Compress of the ordered keys. */
  const marker = (state: string) =>
    `${JSON.stringify({ state, started: '2021-03-05T10:00:00.000Z', updated: '2021-03-05T10:03:00.000Z', command_line: '"powershell.exe" -File .\\Collect-ExchangeEvidence.ps1 -OutputPath E:\\cases\\EX01.zip', pid: 4242 })}\n`;

  const shapes: Array<[string, () => Promise<Buffer>, string]> = [
    ['Ctrl-C while copying (finally closed the zip: files, no manifest)', () => zipOf(2, false), 'interrupted after 2 files'],
    ['disk full while copying', () => zipOf(3, false), 'failed: There is not enough space on the disk. after 3 files'],
    ['killed outright (no finally: a truncated zip, the first marker)', async () => (await zipOf(3, false)).subarray(0, 300), 'collecting'],
    ['stopped after the manifest, before the seal', () => zipOf(4, true), 'interrupted after 4 files'],
  ];

  it.each(shapes)('%s: verify exit 4, saying the case is incomplete and why', async (_name, bytes, state) => {
    const zipPath = join(dir, `${state.replace(/\W+/g, '-')}.zip`);
    await writeFile(zipPath, await bytes());
    await writeFile(`${zipPath}.incomplete`, marker(state));
    const v = exhunt(['verify', zipPath]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(4);
    expect(v.stdout.trimEnd().split('\n').pop()).toBe(`FAILED: the case is incomplete: ${state} (${zipPath}.incomplete is present); collect again with --replace`);
  });

  it('scan reads what was copied and lists the case as incomplete', async () => {
    const zipPath = join(dir, 'scan-me.zip');
    await writeFile(zipPath, await zipOf(2, false));
    await writeFile(`${zipPath}.incomplete`, marker('interrupted after 2 files'));
    const r = exhunt(['scan', zipPath, '--json', '-', '-q']);
    const host = (JSON.parse(r.stdout) as { hosts: Array<{ skipped: Array<{ path: string; reason: string }> }> }).hosts[0];
    expect(host.skipped).toContainEqual({ path: 'scan-me.zip.incomplete', reason: expect.stringMatching(/^case incomplete: the collect that wrote it did not finish/) });
  });
});

// ---- the engine-facing contract, on a zip laid out exactly as the collector writes it ---------------------------

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const WEB_CONFIG = Buffer.from(
  render({ urlRewrite: [PROXYLOGON_EOMT], services: [], rollback: false }, 'xml').replace(
    '</rules>',
    `<rule name="PowerShell - inbound" stopProcessing="true"><match url=".*" /><conditions><add input="{REQUEST_URI}" pattern="${PROXYNOTSHELL_VERSIONS[0].rule.conditions[0].pattern}" /></conditions><action type="AbortRequest" /></rule></rules>`,
  ),
);
const HTTPPROXY = Buffer.from('#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.009\r\n#Log-type: HttpProxy Logs\r\n');
const EVTX = Buffer.from('ElfFile\0exported');
const VDIR = Buffer.from('Identity    : EX01\\OAB (Default Web Site)\r\nExternalUrl : http://f/<script language="JScript" runat="server">\r\n');
const entry = (kind: 'file' | 'command', original: string, path: string, body: Buffer, note?: string) => ({
  kind, original, path, size: body.length, sha256: sha(body),
  mtime: '2021-03-03T06:49:46.000Z', ctime: null, atime: '2021-03-05T10:00:00.000Z', btime: '2020-11-01T00:00:00.000Z', errors: [] as string[],
  ...(note ? { note } : {}),
});
const FIXTURE_MANIFEST = {
  schema: 'exhunt.case/1' as const,
  server: { host: 'EX01', exchange_path: 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\', exsetup_version: '15.1.2176.9' },
  collector: {
    tool: 'Collect-ExchangeEvidence.ps1', version: '0.1.0', command_line: '"powershell.exe" -File .\\Collect-ExchangeEvidence.ps1 -OutputPath E:\\cases\\EX01.zip',
    user: 'CONTOSO\\ir-admin', host: 'EX01', platform: 'win32', live: true, started: '2021-03-05T10:00:00.000Z', finished: '2021-03-05T10:07:00.000Z',
    sources: [{ drive: 'C', path: 'C:\\' }], size_cap_bytes: 21474836480,
  },
  files: [
    entry('file', 'C:\\inetpub\\wwwroot\\web.config', 'files/C/inetpub/wwwroot/web.config', WEB_CONFIG),
    entry('file', 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\HttpProxy\\Owa\\HttpProxy_2021030306-1.LOG', 'files/C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG', HTTPPROXY),
    entry('file', 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx', 'files/C/Windows/System32/winevt/Logs/MSExchange Management.evtx', EVTX, 'exported with wevtutil epl "MSExchange Management" at 2021-03-05T10:05:00.000Z (the live file is locked): an export, not a byte copy; 16 bytes'),
    entry('command', 'Get-OabVirtualDirectory -Server EX01 -ADPropertiesOnly | Format-List', 'commands/vdir-OabVirtualDirectory.txt', VDIR),
  ],
  errors: [{ original: 'C:\\Windows\\System32\\winevt\\Logs\\Security.evtx', error: 'locked, and wevtutil epl failed with exit code 5' }],
};

/** Windows PowerShell 5.1's ConvertTo-Json layout ("key":  value, 4-space indent); JSON all the same. */
function ps51Json(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/^(\s*"[^"]+"):/gm, '$1:  ');
}

describe('a zip in the collector layout satisfies the engine contract', () => {
  let dir: string;
  let zipPath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exhunt-collector-'));
    zipPath = join(dir, 'EX01.zip');
    const json = Buffer.from(`${ps51Json(FIXTURE_MANIFEST)}\n`);
    const zip = new yazl.ZipFile();
    const bodies = [WEB_CONFIG, HTTPPROXY, EVTX, VDIR];
    FIXTURE_MANIFEST.files.forEach((f, i) => zip.addBuffer(bodies[i], f.path, { mtime: new Date(f.mtime) }));
    zip.addBuffer(json, 'manifest.json');
    zip.addBuffer(Buffer.from('kind,original,path,size,sha256,mtime,ctime,atime,btime,errors\r\n'), 'manifest.csv');
    zip.addBuffer(Buffer.from(custodyRecord('collect', FIXTURE_MANIFEST, sha(json), zipPath, FIXTURE_MANIFEST.collector.finished)), 'custody.log');
    zip.end();
    const parts: Buffer[] = [];
    for await (const c of zip.outputStream) parts.push(c as Buffer);
    await writeFile(zipPath, Buffer.concat(parts));
    // As the script does: a seal record with the zip's SHA-256 beside it.
    await writeFile(`${zipPath}.custody.log`, custodyRecord('seal', FIXTURE_MANIFEST, sha(Buffer.concat(parts)), zipPath, FIXTURE_MANIFEST.collector.finished));
  });
  afterAll(async () => {
    await closeZips();
    await rm(dir, { recursive: true, force: true });
  });

  it('listZip sees the files under their natural paths plus the case metadata', async () => {
    const names = (await listZip(zipPath, () => undefined)).map((e) => e.name);
    expect(names).toEqual([...FIXTURE_MANIFEST.files.map((f) => f.path), 'manifest.json', 'manifest.csv', 'custody.log']);
  });

  it('readCaseManifest accepts it and caseFacts gives the host and the ExSetup build', async () => {
    const m = await readCaseManifest(zipPath);
    expect(m?.files[2].note).toMatch(/^exported with wevtutil epl/);
    expect(caseFacts(m!)).toEqual([
      { kind: 'hostname', value: 'EX01', source: { path: 'manifest.json' }, time: '2021-03-05T10:00:00.000Z', origin: 'Collect-ExchangeEvidence.ps1 (collector)' },
      { kind: 'build', value: '15.1.2176.9', source: { path: 'manifest.json' }, time: '2021-03-05T10:00:00.000Z', origin: 'ExSetup.exe (collector)' },
    ]);
  });

  it('exhunt verify checks it in place', async () => {
    const r = await verifyCase(zipPath);
    expect(verifyOk(r)).toBe(true);
    expect(r).toMatchObject({ checked: 4, manifestIntact: true, sealIntact: true, problems: [] });
  });

  it('the iis-config scanner reports the mitigation state from the zipped web.config', async () => {
    const [e] = await listZip(zipPath, () => undefined);
    const file = { kind: 'zip' as const, zip: zipPath, entry: e.name, rel: e.name, size: e.size, mtimeMs: e.mtimeMs };
    const format = iisConfigScanner.classify(file, await readHead(file));
    const r = await iisConfigScanner.scan(file, format as string, { since: '2020-12-01', iocFiles: [], yaraRules: null }, defaultRuleSet());
    expect(r.facts.map((f) => f.value)).toEqual(['proxylogon-eomt: applied', 'proxynotshell-urlrewrite: v1 (bypassable)']);
  });
});
