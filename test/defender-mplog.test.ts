// Microsoft Defender's support log (MPLog-*.log, ProgramData\Microsoft\Windows Defender\Support): detection lines
// as artefacts.help "Windows Defender - Support logs" prints them (DETECTION_ADD, DETECTIONEVENT,
// DETECTION_CLEANEVENT, EMS detection), UTF-16LE with BOM and CRLF as Defender writes it. Threat names as Microsoft
// published them for the 2021 Exchange attacks (Exploit:Script/Exmann.A!dha) and Chopper shells (Backdoor:ASP/...).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFENDER_MPLOG_FORMAT, MpLogParser } from '../src/parsers/defender.js';
import { EVTX_RULES } from '../src/rules/evtx.js';
import { builtinIocs } from '../src/rules/iocs.js';
import type { LogRecord } from '../src/model.js';
import { exhunt } from './support/cli.js';

const SHELL = 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx';
const OWA = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\RedirSuiteServerProxy.aspx';

const LINES = [
  '2021-03-03T07:10:02.118Z ProcessImageName: w3wp.exe, Pid: 10212, TotalTime: 46, Count: 3, MaxTime: 31, MaxTimeFile: \\Device\\HarddiskVolume2\\inetpub\\wwwroot\\aspnet_client\\web.config, EstimatedImpact: 12%',
  `2021-03-03T07:14:30.512Z DETECTION_ADD#1 Backdoor:ASP/Chopper.F!dha file:${SHELL} PropBag [length: 0, data: (null)]`,
  `2021-03-03T07:14:30.512Z DETECTIONEVENT MPSOURCE_REALTIME Backdoor:ASP/Chopper.F!dha file:${SHELL};`,
  'Begin Resource Scan',
  'Scan Source:6',
  'Start Time:03-03-2021 07:14:33',
  `Resource Path:${SHELL}`,
  'Threat Name:Backdoor:ASP/Chopper.F!dha',
  'End Scan',
  `2021-03-03T07:14:41.203Z DETECTION_CLEANEVENT MPSOURCE_REALTIME MP_THREAT_ACTION_QUARANTINE 0x80508033 Backdoor:ASP/Chopper.F!dha file:${SHELL};`,
  `2021-03-04T01:52:40.100Z DETECTION_ADD#2 Exploit:Script/Exmann.A!dha file:${OWA} PropBag [length: 0, data: (null)]`,
  // Not Exchange: no finding (as PX-16 on the event log).
  '2021-03-04T02:00:00.001Z Engine:EMS detection: HackTool:Win32/Mimikatz.D, sigseq=0x0000123456789B73, pid=1254',
  '2021-03-05T09:00:00.001Z DETECTION_ADD#1 HackTool:Win32/Mimikatz.D file:C:\\Users\\admin\\Downloads\\m.exe PropBag [length: 0, data: (null)]',
  // The command Red Canary saw a Chopper shell run (blog "Microsoft Exchange server exploitation"), as MPLog words a
  // suspicious command line; and an admin's command it also reports, which is no finding.
  `2021-03-04T02:10:11.322Z Engine:command line reported as lowfi: C:\\Windows\\System32\\cmd.exe("cmd" /c cd /d "C:\\inetpub\\wwwroot\\aspnet_client\\system_web"&net group "Exchange Organization administrators" administrator /del /domain&echo [S]&cd&echo [E])`,
  '2021-03-05T10:00:00.000Z Engine:command line reported as lowfi: C:\\Windows\\System32\\reg.exe(reg add HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest /v UseLogonCredential /t REG_DWORD /d 0 /f)',
];

/** UTF-16LE with BOM and CRLF, as Defender writes its support logs. */
const utf16 = (lines: string[]): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]);

function scan(files: Record<string, Buffer | string>) {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-mplog-'));
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  const r = exhunt(['scan', dir, '--json', '-']);
  return JSON.parse(r.stdout).hosts[0] as {
    verdict: string;
    findings: Array<{ rule: string; severity: string; time: string; source: { path: string; line: number }; evidence: Record<string, unknown> }>;
    coverage: Array<{ source: string; first: string; last: string }>;
  };
}

describe('Defender support log (MPLog)', () => {
  it('splits a detection line into event, source, action, threat and file', () => {
    const p = new MpLogParser('MPLog-20210301-101500.log');
    const clean = p.parse(LINES[9], 10)!;
    expect(clean.time).toBe('2021-03-03T07:14:41.203Z');
    expect(clean.fields).toMatchObject({ Event: 'DETECTION_CLEANEVENT', Source: 'MPSOURCE_REALTIME', Action: 'MP_THREAT_ACTION_QUARANTINE', Threat: 'Backdoor:ASP/Chopper.F!dha', Schema: 'file', Resource: SHELL });
    expect(p.parse(LINES[10], 11)!.fields.Resource).toBe(OWA);
    expect(p.parse(LINES[11], 12)!.fields).toMatchObject({ Event: 'EMS detection', Threat: 'HackTool:Win32/Mimikatz.D' });
    // Block lines carry no time: not records.
    expect(p.parse('Threat Name:Backdoor:ASP/Chopper.F!dha', 8)).toBeNull();
  });

  it('is known by its name, or by its lines when renamed; other logs are not taken for it', () => {
    const head = LINES.join('\n');
    expect(DEFENDER_MPLOG_FORMAT.detect('', 'ProgramData/Microsoft/Windows Defender/Support/MPLog-20210301-101500.log')).toBe(true);
    expect(DEFENDER_MPLOG_FORMAT.detect(head, 'case/defender/support.log.bak')).toBe(true);
    expect(DEFENDER_MPLOG_FORMAT.detect('2021-03-03T06:49:42.162Z,3f1b…,15,1,2176,2,,Ecp,mail.corp.local,/ecp/y.js', 'x.log')).toBe(false);
  });

  it('end to end: the Chopper shell and the Exmann exploit file Defender caught make the host compromised, with file and time', () => {
    const host = scan({ 'C/ProgramData/Microsoft/Windows Defender/Support/MPLog-20210301-101500.log': utf16(LINES) });
    expect(host.verdict).toBe('compromised');
    expect(host.findings.map((f) => [f.rule, f.severity, f.time, f.source.line, f.evidence.file])).toEqual([
      ['PX-20', 'critical', '2021-03-03T07:14:30.512Z', 2, SHELL],
      ['PX-20', 'critical', '2021-03-03T07:14:30.512Z', 3, SHELL],
      ['PX-20', 'critical', '2021-03-03T07:14:41.203Z', 10, SHELL],
      ['PX-20', 'critical', '2021-03-04T01:52:40.100Z', 11, OWA],
      ['PX-21', 'critical', '2021-03-04T02:10:11.322Z', 14, undefined],
    ]);
    expect(host.findings[4].evidence.marker).toBe('&cd&echo');
    expect(host.findings[2].evidence.action).toBe('quarantine');
    expect(host.coverage).toEqual([expect.objectContaining({ source: 'Defender MPLog', first: '2021-03-03T07:10:02.118Z', last: '2021-03-05T10:00:00.000Z' })]);
  });

  it('Exmann in an Exchange log is exploit text to keep, not a shell to remove: no file to delete, no STIX shell', () => {
    const ecp = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\ECP\\Server\\ECPServer2021030402-1.LOG';
    const lines = [LINES[0], `2021-03-04T03:10:00.000Z DETECTION_ADD#2 Exploit:Script/Exmann.A!dha file:${ecp}->(UTF-16LE) PropBag [length: 0, data: (null)]`, '2021-03-04T03:11:00.000Z Engine:EMS detection: Exploit:Script/Exmann.A!dha, sigseq=0x0000123456789B73, pid=4120'];
    const p = new MpLogParser('MPLog-20210301-101500.log');
    expect(p.parse(lines[1], 2)!.fields).toMatchObject({ Resource: ecp, ContainerPart: '(UTF-16LE)' });
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-mplog-'));
    mkdirSync(join(dir, 'Support'));
    writeFileSync(join(dir, 'Support', 'MPLog-20210301-101500.log'), utf16(lines));
    const r = exhunt(['scan', dir, '--json', '-', '--since', '2021-03-04']);
    const host = JSON.parse(r.stdout).hosts[0] as { verdict: string; findings: Array<{ rule: string; kind: string; severity: string; evidence: Record<string, unknown> }>; next_steps?: unknown };
    expect(host.findings.map((f) => [f.rule, f.kind, f.severity, f.evidence.file, f.evidence.detected_in, f.evidence.container_part])).toEqual([
      ['PX-20', 'exploitation', 'critical', undefined, ecp, '(UTF-16LE)'],
      ['PX-20', 'exploitation', 'critical', undefined, null, null],
    ]);
    expect(host.verdict).toBe('compromised');
    // Nothing to remove: the summary names the log only in the finding's line; STIX publishes no shell.
    const text = exhunt(['scan', dir, '--since', '2021-03-04', '--no-color']).stdout;
    expect(text.split('\n').filter((l) => l.includes('ECPServer2021030402-1.LOG') && !l.includes('[PX-20]'))).toEqual([]);
    const stix = JSON.parse(exhunt(['scan', dir, '--stix', '-']).stdout) as { objects: Array<{ type: string; pattern?: string }> };
    expect(stix.objects.filter((o) => o.pattern?.includes('ECPServer'))).toEqual([]);
  });

  it('a log with only other detections is read (coverage) and gives no Exchange finding', () => {
    const host = scan({ 'Support/MPLog-20210301-101500.log': utf16([LINES[0], LINES[11], LINES[12], LINES[14]]) });
    expect(host.findings).toEqual([]);
    expect(host.verdict).toBe('insufficient-evidence');
    expect(host.coverage.map((c) => c.source)).toEqual(['Defender MPLog']);
  });
});

describe('Defender event log (PX-16): the file of a detection', () => {
  const px16 = EVTX_RULES.find((r) => r.id === 'PX-16')!;
  const event = (path: string): LogRecord => ({
    format: 'evtx',
    path: 'Microsoft-Windows-Windows Defender%4Operational.evtx',
    record: 77,
    time: '2021-03-03T07:14:30.512Z',
    fields: { EventID: '1116', Provider: 'Microsoft-Windows-Windows Defender', Provider_Name: 'Microsoft-Windows-Windows Defender', 'Threat Name': 'Backdoor:ASP/Chopper.F!dha', Path: path, 'Action Name': 'Not Applicable' },
    raw: '',
  });
  const hit = (path: string) => {
    const h = px16.match(event(path), { iocs: builtinIocs() });
    return Array.isArray(h) ? h[0] : h;
  };

  it('is the path without the resource schema (`file:_`), every file of a multi-resource Path listed', () => {
    expect(hit(`file:_${SHELL}`)!.evidence).toMatchObject({ file: SHELL, resources: `file:_${SHELL}` });
    const two = hit(`file:_${SHELL}; process:_pid:10212,ProcessStart:132592148713212345; file:_${OWA}`)!;
    expect(two.evidence).toMatchObject({ file: SHELL, files: [SHELL, OWA] });
    expect(two.summary).toBe(`Defender detected Backdoor:ASP/Chopper.F!dha in ${SHELL}`);
    // A process alone names no file; a path written without a schema is kept.
    expect(hit('process:_pid:10212,ProcessStart:132592148713212345')!).toMatchObject({ grade: 'PX-16 exploit', evidence: { detected_in: null } });
    expect(hit(SHELL)!.evidence.file).toBe(SHELL);
  });

  it("Exmann in an Exchange log is the exploit's text reaching the server (exploitation, evidence to keep), not a shell to remove", () => {
    const log = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Logging\\ECP\\Server\\ECPServer2021030307-1.LOG';
    const h = hit(`containerfile:_${log}; file:_${log}->(UTF-16LE)`)!;
    expect(h.grade).toBe('PX-16 exploit');
    expect(h.evidence).toMatchObject({ detected_in: log });
    expect(h.evidence.file).toBeUndefined();
    // A shell inside an archive is named by the archive on disk.
    expect(hit(`file:_C:\\ProgramData\\x.zip->a.aspx; file:_${SHELL}`)!.evidence).toMatchObject({ file: SHELL });
  });

  it('end to end: the next step names the shell at its path on the server, ready to use', () => {
    const ev = {
      Event: {
        System: {
          Provider: { '#attributes': { Name: 'Microsoft-Windows-Windows Defender' } },
          EventID: 1116,
          Level: 3,
          TimeCreated: { '#attributes': { SystemTime: '2021-03-03T07:14:30.512Z' } },
          EventRecordID: 77,
          Channel: 'Microsoft-Windows-Windows Defender/Operational',
          Computer: 'EXCH01.corp.local',
        },
        EventData: { 'Threat Name': 'Backdoor:ASP/Chopper.F!dha', Path: `file:_${SHELL}`, 'Action Name': 'Not Applicable' },
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-defender-'));
    writeFileSync(join(dir, 'defender.jsonl'), `${JSON.stringify(ev)}\n`);
    const text = exhunt(['scan', dir]).stdout;
    expect(text).toContain(`Remove the web shells (after imaging)\n        ${SHELL}\n`);
    expect(text).not.toContain('file:_');
  });
});
