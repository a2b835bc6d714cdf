// Builds Velociraptor containers, KAPE target output and evtx_dump JSON Lines from a host folder laid out as
// `C/<path on the server>` (examples/evidence/*), in the documented layouts:
// - Velociraptor container: velociraptor-docs "The fuse command" listing; Velocidex/velociraptor
//   vql/tools/collector/collector_manager.go (client_info.json = info() row, collection_context.json, log.json,
//   requests.json), reporting/container.go (uploads.json, uploads/<accessor>/...), utils/sanitize.go (component
//   escaping: all but A-Z a-z 0-9 - _ . ~ space $ as %XX; a leading or trailing "." as %2E; "_" appended to names
//   ending in "_" or ".db"). Encrypted containers: outer zip of metadata.json + data.zip (velociraptor-docs
//   "collection_data").
// - Event rows: Velociraptor parse_evtx() rows (System.EventID.Value, System.TimeCreated.SystemTime in epoch
//   seconds) and Windows.EventLogs.EvtxHunter rows (EventTime, Channel, Provider, EventID, EventData, Message);
//   evtx_dump -o jsonl ({"Event":{"System":{..."#attributes"...}}}).
// - KAPE: `RecreateDirectories: True` target output `<tdest>/C/...` with `<ts>_CopyLog.csv` and `<ts>_ConsoleLog.txt`
//   (EricZimmerman/KapeFiles Targets/Apps/Exchange*.tkape).
import { createWriteStream } from 'node:fs';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import yazl from 'yazl';

/** Velociraptor's utils/sanitize.go SanitizeString, for building containers the way the collector names entries. */
export function sanitize(component: string): string {
  if (component === '') return '';
  if (component.startsWith('.')) return `%2E${sanitize(component.slice(1))}`;
  if (component.endsWith('.')) return `${sanitize(component.slice(0, -1))}%2E`;
  const c = component.endsWith('.db') || component.endsWith('_') ? `${component}_` : component;
  let out = '';
  for (const b of Buffer.from(c, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~ $]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(abs)));
    else if (e.isFile()) out.push(abs);
  }
  return out.sort();
}

/** Files of a host folder below its `C/` drive folder, as Windows paths (`C:\...`) with their bytes. */
async function driveFiles(hostDir: string): Promise<Array<{ win: string; parts: string[]; data: Buffer }>> {
  const root = join(hostDir, 'C');
  const files = await walk(root);
  return Promise.all(
    files.map(async (abs) => {
      const parts = relative(root, abs).split(sep);
      return { win: `C:\\${parts.join('\\')}`, parts, data: await readFile(abs) };
    }),
  );
}

const T0 = Date.UTC(2021, 2, 3, 10, 0, 0) / 1000;

/** Event rows the way Velociraptor artifacts return them: a Sysmon China Chopper command and a ProxyShell export. */
export function velociraptorEventRows(host: string): { evtx: string; hunter: string } {
  const evtx = {
    System: {
      Provider: { Name: 'Microsoft-Windows-Sysmon', Guid: '{5770385F-C22A-43E0-BF4C-06F5698FFBD9}' },
      EventID: { Value: 1 },
      Version: 5,
      Level: 4,
      Task: 1,
      Opcode: 0,
      Keywords: 9223372036854775808,
      TimeCreated: { SystemTime: T0 + 3600.25 },
      EventRecordID: 48213,
      Correlation: {},
      Execution: { ProcessID: 3120, ThreadID: 4508 },
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: `${host}.corp.example`,
      Security: { UserID: 'S-1-5-18' },
    },
    EventData: {
      UtcTime: '2021-03-03 11:00:00.250',
      Image: 'C:\\Windows\\System32\\cmd.exe',
      CommandLine: 'cmd /c cd /d "C:\\inetpub\\wwwroot\\aspnet_client\\"&whoami&echo [S]&cd&echo [E]',
      ParentImage: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
      ParentCommandLine: 'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "MSExchangeOWAAppPool"',
      User: 'NT AUTHORITY\\SYSTEM',
    },
    Message: 'Process Create:',
  };
  const hunter = {
    EventTime: '2021-03-03T11:05:00Z',
    Computer: `${host}.corp.example`,
    Channel: 'MSExchange Management',
    Provider: 'MSExchange CmdletLogs',
    EventID: 1,
    EventRecordID: 7731,
    UserSID: null,
    Username: null,
    EventData: {
      Data: [
        'New-MailboxExportRequest',
        '-Mailbox "administrator@corp.example" -FilePath "\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\sx1.aspx"',
        'corp.example/Users/Administrator',
        'S-1-5-21-1-2-3-500',
        'S-1-5-21-1-2-3-500',
        'Remote-PowerShell-Unknown',
        '8012 w3wp#MSExchangePowerShellAppPool',
      ],
      Binary: '',
    },
    UserData: null,
    Message: 'Cmdlet suceeded. Cmdlet New-MailboxExportRequest, parameters ...',
    OSPath: 'C:\\Windows\\System32\\winevt\\Logs\\MSExchange Management.evtx',
  };
  return { evtx: `${JSON.stringify(evtx)}\n`, hunter: `${JSON.stringify(hunter)}\n` };
}

/** The same Sysmon event as evtx_dump -o jsonl writes it. */
export function evtxDumpJsonl(host: string): string {
  const row = {
    Event: {
      '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon', Guid: '5770385F-C22A-43E0-BF4C-06F5698FFBD9' } },
        EventID: 1,
        Version: 5,
        Level: 4,
        Task: 1,
        Opcode: 0,
        Keywords: '0x8000000000000000',
        TimeCreated: { '#attributes': { SystemTime: '2021-03-03T11:00:00.250000Z' } },
        EventRecordID: 48213,
        Correlation: null,
        Execution: { '#attributes': { ProcessID: 3120, ThreadID: 4508 } },
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Computer: `${host}.corp.example`,
        Security: { '#attributes': { UserID: 'S-1-5-18' } },
      },
      EventData: {
        UtcTime: '2021-03-03 11:00:00.250',
        Image: 'C:\\Windows\\System32\\cmd.exe',
        CommandLine: 'cmd /c cd /d "C:\\inetpub\\wwwroot\\aspnet_client\\"&whoami&echo [S]&cd&echo [E]',
        ParentImage: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe',
      },
    },
  };
  const benign = { Event: { System: { ...row.Event.System, EventID: 4, EventRecordID: 48214 }, EventData: { State: 'Started' } } };
  return `${JSON.stringify(benign)}\n${JSON.stringify(row)}\n`;
}

export interface VeloOptions {
  host: string;
  /** Add result rows of event-log artifacts (read as events when no .evtx was collected). */
  eventRows?: boolean;
  /** Also collect this extra web shell, named with a `%` (stored as %25) through the ntfs accessor. */
  percentShell?: boolean;
}

/** The container's entries: name -> bytes. */
export async function velociraptorEntries(hostDir: string, o: VeloOptions): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const uploads: object[] = [];
  for (const f of await driveFiles(hostDir)) {
    const name = `uploads/auto/${sanitize('C:')}/${f.parts.map(sanitize).join('/')}`;
    entries.set(name, f.data);
    uploads.push({ Timestamp: '2026-12-01T10:15:03Z', started: '2026-12-01 10:15:03 +0000 UTC', vfs_path: f.win, _Components: ['C:', ...f.parts], file_size: f.data.length, uploaded_size: f.data.length, Type: '' });
  }
  if (o.percentShell) {
    const shell = [...entries].find(([n]) => n.endsWith('.aspx') && n.includes('aspnet_client'));
    if (shell) {
      const parts = ['inetpub', 'wwwroot', 'aspnet_client', 'system_web', '100%_update.aspx'];
      entries.set(`uploads/ntfs/${sanitize('\\\\.\\C:')}/${parts.map(sanitize).join('/')}`, shell[1]);
    }
  }
  const info = [{ Hostname: o.host, Uptime: 3914, BootTime: 1764580000, OS: 'windows', Platform: 'Microsoft Windows Server 2016 Datacenter', PlatformFamily: 'Server', PlatformVersion: '10.0.14393 Build 14393', KernelVersion: '10.0.14393 Build 14393', VirtualizationSystem: '', VirtualizationRole: '', CompilerVersion: 'go1.23.2', HostID: '3b0a2f7e-1c3d-4d21-9d43-8b1f0c5e8a11', Exe: 'C:\\Users\\admin\\Collector_velociraptor-v0.7.1-windows-amd64.exe', CWD: 'C:\\Users\\admin', IsAdmin: true, ClientStart: '2026-12-01T10:14:59Z', LocalTZ: 'UTC', LocalTZOffset: 0, Fqdn: `${o.host.toLowerCase()}.corp.example`, Architecture: 'amd64' }];
  entries.set('client_info.json', Buffer.from(JSON.stringify(info)));
  entries.set('collection_context.json', Buffer.from(JSON.stringify({ client_id: 'C.1234567890abcdef', session_id: 'F.CT7QH9NOT6O5K', request: { artifacts: ['Windows.KapeFiles.Targets', 'Windows.EventLogs.EvtxHunter'] }, create_time: 1764584099000000, total_uploaded_files: uploads.length, state: 'FINISHED' })));
  entries.set('requests.json', Buffer.from(JSON.stringify({ items: [{ session_id: 'F.CT7QH9NOT6O5K', query: [{ VQL: 'SELECT * FROM Artifact.Windows.KapeFiles.Targets()' }] }] })));
  entries.set('log.json', Buffer.from(`${JSON.stringify({ _ts: 1764584100, level: 'INFO', message: 'Starting collection of Windows.KapeFiles.Targets' })}\n`));
  entries.set('uploads.json', Buffer.from(uploads.map((u) => JSON.stringify(u)).join('\n') + '\n'));
  const pslist = `${JSON.stringify({ Pid: 4, Ppid: 0, Name: 'System', CommandLine: '' })}\n`;
  entries.set(`results/${sanitize('Windows.System.Pslist')}.json`, Buffer.from(pslist));
  if (o.eventRows) {
    const rows = velociraptorEventRows(o.host);
    entries.set(`results/${sanitize('Windows.EventLogs.Evtx/Logs')}.json`, Buffer.from(rows.evtx));
    entries.set(`results/${sanitize('Windows.EventLogs.EvtxHunter')}.json`, Buffer.from(rows.hunter));
  }
  return entries;
}

export function writeZip(entries: Map<string, Buffer>, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const [name, data] of entries) zip.addBuffer(data, name, { mtime: new Date('2026-12-01T10:15:03Z') });
    zip.end();
    zip.outputStream.pipe(createWriteStream(out)).on('close', resolve).on('error', reject);
  });
}

/** An offline-collector zip (`Collection-<host>-<time>.zip`). */
export async function velociraptorZip(hostDir: string, out: string, o: VeloOptions): Promise<void> {
  await writeZip(await velociraptorEntries(hostDir, o), out);
}

/** A server export unpacked into a folder. */
export async function velociraptorFolder(hostDir: string, out: string, o: VeloOptions): Promise<void> {
  for (const [name, data] of await velociraptorEntries(hostDir, o)) {
    const p = join(out, ...name.split('/'));
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
  }
}

/** An encrypted (X509) offline collection: metadata.json and data.zip whose entries are unreadable without the key. */
export async function velociraptorEncryptedZip(out: string): Promise<void> {
  const inner = new Map([['data.zip', Buffer.from('PK\u0003\u0004encrypted-bytes-not-readable-without-the-key', 'latin1')]]);
  inner.set('metadata.json', Buffer.from(JSON.stringify([{ Scheme: 'X509', EncryptedPass: 'bm90IGEgcmVhbCBrZXk=', PublicKey: '-----BEGIN PUBLIC KEY-----' }])));
  await writeZip(inner, out);
}

/** KAPE target output (`--tdest OUT`, RecreateDirectories) with its copy and console logs. */
export async function kapeFolder(hostDir: string, out: string, host: string): Promise<void> {
  await cp(join(hostDir, 'C'), join(out, 'C'), { recursive: true });
  const rows = (await driveFiles(hostDir)).map((f) =>
    ['2026-12-01 10:15:03.1234567', f.win, `${out.replace(/\//g, '\\')}\\C\\${f.parts.join('\\')}`, String(f.data.length), '0000000000000000000000000000000000000000', 'False', '2021-03-01 00:00:00', '2021-03-03 00:00:00', '2026-12-01 10:15:03', '00:00:00.0010000'].map((c) => `"${c}"`).join(','),
  );
  const header = 'CopiedTimestamp,SourceFile,DestinationFile,FileSize,SourceFileSha1,DeferredCopy,CreatedOnUtc,ModifiedOnUtc,LastAccessedOnUtc,CopyDuration';
  await writeFile(join(out, '2026-12-01T101500_CopyLog.csv'), `${header}\n${rows.join('\n')}\n`);
  await writeFile(
    join(out, '2026-12-01T101500_ConsoleLog.txt'),
    `KAPE version 1.3.0.2, Author: Eric Zimmerman\nKAPE directory: C:\\KAPE\nCommand line: --tsource C: --tdest E:\\out\\%m --target ExchangeClientAccess,IIS\nSystem info: Machine name: ${host}, 64-bit: True, User: Administrator OS: Windows2016Server (10.0.14393)\n`,
  );
}
