// `exhunt evtx dump` prints one JSON shape for every event, and reads stdin with `-`. The events are an XML export
// (wevtutil qe /f:xml) in the form Windows writes: an MSExchange Management cmdlet event with unnamed insertion
// strings (as in the hamad-she ProxyShell write-up) and a Security 4688 with named values and full System fields.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, exhunt } from './support/cli.js';

const NS = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'";
const CMDLET = `<Event ${NS}><System><Provider Name='MSExchange CmdletLogs'/><EventID Qualifiers='16384'>1</EventID><Level>4</Level><Task>1</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2021-08-20T10:00:01.1234567Z'/><EventRecordID>7</EventRecordID><Channel>MSExchange Management</Channel><Computer>EX01.example.local</Computer><Security/></System><EventData><Data>New-MailboxExportRequest</Data><Data>-Mailbox 'a@example.local' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx'</Data></EventData></Event>`;
const PROCESS = `<Event ${NS}><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2021-03-03T08:15:00.0000000Z'/><EventRecordID>4711</EventRecordID><Correlation/><Execution ProcessID='4' ThreadID='5168'/><Channel>Security</Channel><Computer>EX01.example.local</Computer><Security UserID='S-1-5-18'/></System><EventData><Data Name='NewProcessName'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='ParentProcessName'>c:\\windows\\system32\\inetsrv\\w3wp.exe</Data><Data Name='CommandLine'>cmd /c whoami</Data></EventData></Event>`;
const EXPORT = `<Events>${CMDLET}${PROCESS}</Events>`;

const KEYS = ['record', 'time', 'eventId', 'level', 'provider', 'channel', 'computer', 'version', 'task', 'opcode', 'qualifiers', 'processId', 'threadId', 'keywords', 'userSid', 'activityId', 'relatedActivityId', 'providerGuid', 'data', 'message'];

function parse(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('exhunt evtx dump JSON shape', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'exhunt-dump-')), 'export.xml');
  writeFileSync(file, EXPORT, 'utf8');
  const r = exhunt(['evtx', 'dump', file]);
  const [cmdlet, proc] = parse(r.stdout);

  it('has the same keys in the same order on every line', () => {
    expect(r.code).toBe(0);
    expect(Object.keys(cmdlet)).toEqual(KEYS);
    expect(Object.keys(proc)).toEqual(KEYS);
  });

  it('keys unnamed values by position, so data is always an object', () => {
    expect(cmdlet.data).toEqual({ 'Data[0]': 'New-MailboxExportRequest', 'Data[1]': "-Mailbox 'a@example.local' -FilePath '\\\\localhost\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx'" });
    expect(proc.data).toEqual({ NewProcessName: 'C:\\Windows\\System32\\cmd.exe', ParentProcessName: 'c:\\windows\\system32\\inetsrv\\w3wp.exe', CommandLine: 'cmd /c whoami' });
  });

  it('keeps the System fields: user SID, process and thread ids, keywords, task, opcode, level, version', () => {
    expect(proc).toMatchObject({ record: 4711, eventId: 4688, level: 0, version: 2, task: 13312, opcode: 0, processId: 4, threadId: 5168, keywords: '0x8020000000000000', userSid: 'S-1-5-18', providerGuid: '{54849625-5478-4994-a5ba-3e3b0328c30d}', message: null });
    expect(cmdlet).toMatchObject({ qualifiers: 16384, task: 1, opcode: null, processId: null, userSid: null, keywords: '0x80000000000000' });
  });

  it('reads the log from stdin with -', () => {
    const viaStdin = spawnSync(process.execPath, [CLI, 'evtx', 'dump', '-'], { input: EXPORT, encoding: 'utf8' });
    expect(viaStdin.status).toBe(0);
    expect(viaStdin.stdout).toBe(r.stdout);
    const notALog = spawnSync(process.execPath, [CLI, 'evtx', 'dump', '-'], { input: 'hello', encoding: 'utf8' });
    expect(notALog.status).toBe(2);
    expect(notALog.stderr).toBe('exhunt: -: not an event log (.evtx, XML export, event JSON Lines or EvtxECmd output)\nexhunt: 1 of 1 file(s) could not be read\n');
  });
});
