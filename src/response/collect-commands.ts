// The configuration `exhunt collect` gathers by running commands, live on the Windows server only: the Exchange
// cmdlet output and registry values the configuration controls read (docs/exposure.md), saved under `commands/`
// with the names and content of collector/Collect-ExchangeEvidence.ps1 (a test keeps the pipelines identical).
// Each is one fixed PowerShell script run with execFile and a fixed argument array: no shell, and nothing from the
// evidence or the command line ever reaches an argument (the server name is read by PowerShell itself).
import { execFile } from 'node:child_process';
import type { ManifestError } from '../evidence/case.js';

/** The case folder the outputs go in (beside files/). */
export const COMMANDS_DIR = 'commands';

export interface CommandOutput {
  /** File name under `commands/` (the name the exchange-config scanner reads). */
  name: string;
  /** What was run, for the manifest's `original`. */
  original: string;
  data: Buffer;
}

export type Run = (file: string, args: readonly string[]) => Promise<{ stdout: Buffer; stderr: string; code: number | null }>;

interface Query {
  name: string;
  original: string;
  /** The pipeline, exactly as in the PowerShell collector. */
  pipeline: string;
  exchange: boolean;
}

const SNAPIN = 'Microsoft.Exchange.Management.PowerShell.SnapIn';

/** The registry values the configuration controls need, as a .reg export (the collector's Get-RegExport body). */
export const REG_EXPORT = [
  "$lines = @('Windows Registry Editor Version 5.00', '')",
  "foreach ($key in 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics') {",
  "$props = Get-ItemProperty -LiteralPath ('Registry::' + $key) -ErrorAction SilentlyContinue",
  'if ($null -eq $props) { continue }',
  "$lines += '[' + $key + ']'",
  "foreach ($name in 'SuppressExtendedProtection', 'EnableSerializationDataSigning', 'DisableBaseTypeCheckForDeserialization') {",
  '$p = $props.PSObject.Properties[$name]',
  'if ($null -ne $p -and $p.Value -is [int]) { $lines += (\'"{0}"=dword:{1:x8}\' -f $name, $p.Value) }',
  '}',
  "$lines += ''",
  '}',
  '$lines -join "`r`n"',
].join('\n');

export const QUERIES: readonly Query[] = [
  {
    name: 'registry-exposure.reg',
    original: 'Get-ItemProperty HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa, HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Diagnostics',
    pipeline: REG_EXPORT,
    exchange: false,
  },
  {
    name: 'Get-SettingOverride.json',
    original: 'Get-SettingOverride | ConvertTo-Json',
    pipeline:
      "Get-SettingOverride | Select-Object Name, Component, Section, @{ n = 'Parameters'; e = { @($_.Parameters) } }, @{ n = 'Server'; e = { @($_.Server | ForEach-Object { [string]$_ }) } }, @{ n = 'MinVersion'; e = { [string]$_.MinVersion } }, @{ n = 'MaxVersion'; e = { [string]$_.MaxVersion } }, Reason | ConvertTo-Json -Depth 3",
    exchange: true,
  },
  {
    name: 'Get-OrganizationConfig.json',
    original: 'Get-OrganizationConfig | ConvertTo-Json',
    pipeline: 'Get-OrganizationConfig | Select-Object Name, MitigationsEnabled, EnableDownloadDomains | ConvertTo-Json',
    exchange: true,
  },
  {
    name: 'Get-ExchangeServer.json',
    original: 'Get-ExchangeServer -Identity $env:COMPUTERNAME | ConvertTo-Json',
    pipeline:
      "Get-ExchangeServer -Identity $server | Select-Object Name, @{ n = 'AdminDisplayVersion'; e = { [string]$_.AdminDisplayVersion } }, MitigationsEnabled, @{ n = 'MitigationsApplied'; e = { @($_.MitigationsApplied) } }, @{ n = 'MitigationsBlocked'; e = { @($_.MitigationsBlocked) } }, DataCollectionEnabled | ConvertTo-Json -Depth 3",
    exchange: true,
  },
  {
    name: 'Get-AuthServer.json',
    original: 'Get-AuthServer | ConvertTo-Json',
    pipeline: "Get-AuthServer | Select-Object Name, @{ n = 'Type'; e = { [string]$_.Type } }, Enabled, ApplicationIdentifier | ConvertTo-Json",
    exchange: true,
  },
  {
    name: 'Get-OwaVirtualDirectory.json',
    original: 'Get-OwaVirtualDirectory -Server $env:COMPUTERNAME -ADPropertiesOnly | ConvertTo-Json',
    pipeline:
      "Get-OwaVirtualDirectory -Server $server -ADPropertiesOnly | Select-Object Name, @{ n = 'InternalUrl'; e = { [string]$_.InternalUrl } }, @{ n = 'ExternalUrl'; e = { [string]$_.ExternalUrl } }, InternalDownloadHostName, ExternalDownloadHostName | ConvertTo-Json",
    exchange: true,
  },
  {
    name: 'Get-HybridConfiguration.json',
    original: 'Get-HybridConfiguration | ConvertTo-Json',
    pipeline: "Get-HybridConfiguration | Select-Object Name, @{ n = 'Domains'; e = { @($_.Domains | ForEach-Object { [string]$_ }) } } | ConvertTo-Json -Depth 3",
    exchange: true,
  },
];

/** The whole script of one query: UTF-8 output, stop on errors, the Exchange snap-in when needed, then the pipeline. */
export function scriptFor(q: Query): string {
  return [
    '$ErrorActionPreference = "Stop"',
    '[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)',
    ...(q.exchange ? [`if (-not (Get-PSSnapin -Name '${SNAPIN}' -ErrorAction SilentlyContinue)) { Add-PSSnapin -Name '${SNAPIN}' }`, '$server = $env:COMPUTERNAME'] : []),
    q.pipeline,
  ].join('\n');
}

/** Windows PowerShell 5.1 by full path (never looked up on PATH); the Windows folder from this machine's environment. */
export function powershellPath(env: NodeJS.ProcessEnv = process.env): string {
  return `${env.SystemRoot ?? env.windir ?? 'C:\\Windows'}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
}

/** The fixed argument array: the script as -EncodedCommand (UTF-16LE base64), so no quoting can change it. */
export function argsFor(q: Query): string[] {
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', Buffer.from(scriptFor(q), 'utf16le').toString('base64')];
}

const TIMEOUT_MS = 180_000;
const MAX_OUTPUT = 64 * 1024 * 1024;

export const execRun: Run = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { encoding: 'buffer', shell: false, windowsHide: true, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ stdout, stderr: `${stderr.toString('utf8')}${err && code === null ? ` ${err.message}` : ''}`, code });
    });
  });

const firstLine = (s: string): string =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find(Boolean)
    ?.slice(0, 300) ?? '';

/**
 * Runs every query (live on Windows only) and returns what it produced; everything not gathered is a manifest
 * error that names it and says why, so a case from an image or another platform says what it lacks.
 */
export async function gatherCommands(o: { live: boolean; platform: NodeJS.Platform; run: Run; powershell?: string }): Promise<{ outputs: CommandOutput[]; errors: ManifestError[] }> {
  const outputs: CommandOutput[] = [];
  const errors: ManifestError[] = [];
  if (!o.live || o.platform !== 'win32') {
    const why = !o.live
      ? 'not gathered: the source is an image or a copied drive, and these come only from the running server'
      : `not gathered: exhunt collect runs Exchange cmdlets and reads the registry only on Windows (this is ${o.platform})`;
    for (const q of QUERIES) errors.push({ original: q.original, error: `${why}; run collector/Collect-ExchangeEvidence.ps1 on the server, or save this output as commands/${q.name} (docs/exposure.md)` });
    return { outputs, errors };
  }
  const ps = o.powershell ?? powershellPath();
  for (const q of QUERIES) {
    const r = await o.run(ps, argsFor(q));
    // Empty output with success is an answer (no hybrid configuration, no override), kept as the collector does.
    if (r.code === 0) outputs.push({ name: q.name, original: q.original, data: r.stdout });
    else errors.push({ original: q.original, error: `command failed (exit ${r.code ?? 'none'}): ${firstLine(r.stderr) || 'no output'}` });
  }
  return { outputs, errors };
}
