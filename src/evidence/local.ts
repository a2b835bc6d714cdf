// `exhunt scan --local`: the evidence of the Windows machine exhunt runs on, found the way Exchange and IIS record
// it (environment, registry, applicationHost.config), scanned in place as one host rooted at the system drive; an
// Exchange install or IIS log folder on another drive (D:\, E:\: common on enterprise servers) is read as part of it.
// Read-only: `reg query` is run with an argument list (no shell); files are opened by Node, which on Windows
// shares them for read, write and delete with the services that have them open (Exchange and IIS logs).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { win32 } from 'node:path';
import { elsewhere, type ElsewhereFolder, type HostFolder } from './discover.js';

export interface LocalEvidence {
  /** The system drive (`C:\`): the host's root, so paths read as on the server. */
  root: string;
  /** Folders below root to walk, relative to it, and folders on other drives (named by their drive letter). */
  only: HostFolder[];
  /** What was found and where it came from, and what was not found. */
  notes: string[];
}

type Env = Record<string, string | undefined>;
/** Reads one registry value (null when absent); injected for tests. */
export type RegQuery = (key: string, value: string) => string | null;

/** `reg query KEY /v VALUE`, parsed: the data after `REG_SZ` / `REG_EXPAND_SZ`. */
export const regQuery: RegQuery = (key, value) => {
  try {
    const out = execFileSync('reg', ['query', key, '/v', value], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    const m = /\sREG_(?:EXPAND_)?SZ\s+(.+?)\s*$/m.exec(out);
    return m ? m[1] : null;
  } catch {
    return null;
  }
};

function expand(path: string, env: Env): string {
  return path.replace(/%([^%]+)%/g, (all, name: string) => env[name] ?? env[name.toUpperCase()] ?? all);
}

/** IIS log folders from applicationHost.config (site defaults and per site), else IIS's default. */
export function iisLogFolders(config: string | null, env: Env): string[] {
  const dirs = new Set<string>();
  // Linear: a match cannot run past the next `<`, so no start rescans what another start already scanned.
  for (const m of (config ?? '').matchAll(/<logFile\b[^<>]*?\sdirectory="([^"<]*)"/g)) dirs.add(expand(m[1], env));
  if (dirs.size === 0) dirs.add(expand('%SystemDrive%\\inetpub\\logs\\LogFiles', env));
  return [...dirs];
}

/** The evidence locations of this Windows machine, or null on another OS. */
export function findLocalEvidence(platform: NodeJS.Platform, env: Env, reg: RegQuery = regQuery, exists: (p: string) => boolean = existsSync, read: (p: string) => string | null = readText): LocalEvidence | null {
  if (platform !== 'win32') return null;
  const drive = (env.SystemDrive ?? 'C:').replace(/\\?$/, '\\');
  const windows = env.SystemRoot ?? `${drive}Windows`;
  const notes: string[] = [];
  const wanted: Array<[string, string | null, string]> = [];
  const exchange = env.ExchangeInstallPath ?? reg('HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup', 'MsiInstallPath');
  wanted.push(['Exchange install folder', exchange, env.ExchangeInstallPath ? '%ExchangeInstallPath%' : 'registry ExchangeServer\\v15\\Setup MsiInstallPath']);
  const appHost = win32.join(windows, 'System32', 'inetsrv', 'config', 'applicationHost.config');
  for (const d of iisLogFolders(read(appHost), env)) wanted.push(['IIS logs', d, 'applicationHost.config logFile directory']);
  wanted.push(['IIS web root and aspnet_client', win32.join(drive, 'inetpub'), 'system drive']);
  wanted.push(['IIS configuration', win32.dirname(appHost), '%SystemRoot%']);
  wanted.push(['event logs', win32.join(windows, 'System32', 'winevt', 'Logs'), '%SystemRoot%']);
  // Defender's support log keeps its detections (a Chopper shell it quarantined) after its event log rolled over.
  wanted.push(['Defender support log', win32.join(env.ProgramData ?? `${drive}ProgramData`, 'Microsoft', 'Windows Defender', 'Support'), '%ProgramData%']);
  const only = new Set<string>();
  const offDrive = new Map<string, ElsewhereFolder>();
  for (const [what, path, from] of wanted) {
    if (!path) {
      notes.push(`${what}: not found (${from}); is Exchange installed here?`);
      continue;
    }
    const rel = win32.relative(drive, path);
    if (!exists(path)) notes.push(`${what}: ${path} does not exist`);
    else if (/^[a-z]:|^\.\./i.test(rel) || win32.isAbsolute(rel)) {
      // One host, several drives (as `collect C=… D=…` copies them): the files are named D/…, as in a case folder.
      const folder = elsewhere(win32.normalize(path).replace(/\\+$/, ''));
      offDrive.set(folder.rel.toLowerCase(), folder);
      notes.push(`${what}: ${path} (${from}; not on the system drive ${drive}: read as part of this host, named ${folder.rel}/…)`);
    } else {
      only.add(rel);
      notes.push(`${what}: ${path} (${from})`);
    }
  }
  return { root: drive, only: [...only, ...outermost([...offDrive.values()])], notes };
}

/** Folders not inside another one of the list (an IIS log folder under the Exchange folder is read once). */
function outermost(folders: ElsewhereFolder[]): ElsewhereFolder[] {
  const key = (f: ElsewhereFolder) => f.rel.toLowerCase() + '/';
  return folders.filter((f) => !folders.some((o) => o !== f && key(f).startsWith(key(o))));
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Why a file could not be opened, and what to do, when it is a live event log: the Event Log service holds .evtx
 * files open without sharing them, so they are exported first (`wevtutil epl`, or the collector does it).
 */
export function unreadableHint(rel: string, code: string | undefined): string | null {
  const m = /(?:^|\/)([^/]+)\.evtx$/i.exec(rel);
  if (!m || !['EBUSY', 'EPERM', 'EACCES'].includes(code ?? '')) return null;
  const channel = m[1].replace(/%4/g, '/');
  return `live event log held open by the Windows Event Log service: export it with  wevtutil epl "${channel}" C:\\exhunt\\${m[1]}.evtx  (or run collector\\Collect-ExchangeEvidence.ps1) and scan the copy`;
}
