// Microsoft Defender's support log, the Microsoft Protection Log (ProgramData\Microsoft\Windows Defender\Support\
// MPLog-*.log; UTF-16LE or UTF-8). It keeps detections for months after the Defender Operational event log has
// rolled over. Layout from artefacts.help "Windows Defender - Support logs" (Qazeer/artefacts.help, CC0) and
// Intrinsec/mplog_parser: one `<ISO time>Z <text>` line per event, in UTC; multi-line blocks (Resource Scan,
// threat actions, BM telemetry) have untimed lines and repeat what the timed detection lines say. Read here: the
// timed lines (coverage), the detection lines split into their parts, and the command lines Defender reported:
//   2022-12-15T11:24:18.854Z DETECTION_ADD#1 HackTool:MSIL/Mimikatz!MSR file:C:\Users\x\binary.exe PropBag [length: 0, data: (null)]
//   2022-12-15T11:24:18.854Z DETECTIONEVENT MPSOURCE_REALTIME HackTool:MSIL/Mimikatz!MSR file:C:\Users\x\binary.exe;
//   2022-12-15T11:25:01.549Z DETECTION_CLEANEVENT MPSOURCE_REALTIME MP_THREAT_ACTION_QUARANTINE 0x80508033 HackTool:MSIL/Mimikatz!MSR file:C:\Users\x\binary.exe;
//   2023-11-24T06:19:53.270Z Engine:EMS detection: HackTool:MSIL/Mimikatz!MSR, sigseq=0x0000123456789B73, pid=1254
//   2022-12-14T10:55:21.580Z Engine:command line reported as lowfi: C:\Windows\System32\reg.exe(reg add HKLM\… /f)
import type { LogRecord } from '../model.js';
import type { LineParser, TextLogFormat } from './types.js';

const TIMED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})Z /;
/** `DETECTION_ADD#1 <threat> <schema>:<resource>`, `DETECTIONEVENT|DETECTION_CLEANEVENT MPSOURCE_x [<action> <hr>] <threat> <schema>:<resource>;`. */
const DETECTION = /^(DETECTION_ADD(?:#\d{1,4})?|DETECTIONEVENT|DETECTION_CLEANEVENT|DETECTION)\s+(?:(MPSOURCE_\w{1,40})\s+)?(?:(MP_THREAT_ACTION_\w{1,40})\s+(0x[0-9a-f]{1,8})\s+)?(\S{1,300})\s+([a-z]{1,20}):(.*)$/i;
const EMS = /^Engine:EMS detection: ([^,\s]{1,300}),/;
/** `Engine:command line reported as lowfi|threat: C:\Windows\System32\cmd.exe(cmd /c …)`: a command line Defender found suspicious. */
const COMMAND_LINE = /^Engine:command line reported as (lowfi|threat): (.*)$/;
/** Lines only this log writes, to know a renamed copy by its content. */
const MPLOG_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (?:DETECTION|ProcessImageName: |Engine:|SDN:|\[RTP\]|\[Cloud\]|\[Exclusion\]|Filter caching disabled)/m;
const MPLOG_NAME = /^mp(?:log|detection)-\d{6,8}-\d{6}\.log$/i;

/** The resource as written: `DETECTION_ADD` follows it with its property bag, the other lines end it with `;`. */
function resource(rest: string): string {
  const bag = rest.indexOf(' PropBag [');
  const r = bag === -1 ? rest : rest.slice(0, bag);
  return r.endsWith(';') ? r.slice(0, -1) : r;
}

/**
 * Defender names what it found inside a file after `->`: an archive member (`C:\x.zip->a.aspx`) or the decoding it
 * scanned (`C:\…\ECPServer2021082102-1.LOG->(UTF-16LE)`). The file on disk is the part before it. One cut for the
 * MPLog lines and the event log's Path (rules/evtx.ts).
 */
export function splitContainer(resource: string): { onDisk: string; part: string | null } {
  const cut = resource.indexOf('->');
  return cut === -1 ? { onDisk: resource, part: null } : { onDisk: resource.slice(0, cut), part: resource.slice(cut + 2) };
}

export class MpLogParser implements LineParser {
  constructor(private readonly rel: string) {}

  directive(): void {}

  parse(logged: string, lineNo: number): LogRecord | null {
    const line = logged.trimEnd();
    const t = TIMED.exec(line);
    // Lines of the multi-line blocks carry no time: not records.
    if (!t) return null;
    const text = line.slice(t[0].length);
    const fields: Record<string, string> = { Message: text };
    const d = DETECTION.exec(text);
    if (d) {
      fields.Event = d[1];
      if (d[2]) fields.Source = d[2];
      if (d[3]) fields.Action = d[3];
      fields.Threat = d[5];
      fields.Schema = d[6].toLowerCase();
      const { onDisk, part } = splitContainer(resource(d[7]));
      fields.Resource = onDisk;
      if (part !== null) fields.ContainerPart = part;
    } else {
      const ems = EMS.exec(text);
      const cmd = ems ? null : COMMAND_LINE.exec(text);
      if (ems) {
        fields.Event = 'EMS detection';
        fields.Threat = ems[1];
      } else if (cmd) {
        fields.Event = 'command line';
        fields.Level = cmd[1];
        fields.CommandLine = cmd[2];
      }
    }
    return { format: 'defender-mplog', path: this.rel, line: lineNo, time: `${t[1]}Z`, fields, raw: line };
  }
}

export const DEFENDER_MPLOG_FORMAT: TextLogFormat = {
  id: 'defender-mplog',
  // Asked about every text file a sweep meets: the content test reads the first 8 KiB only (timed lines are most lines).
  detect: (head, rel) => MPLOG_NAME.test(rel.slice(rel.lastIndexOf('/') + 1)) || MPLOG_LINE.test(head.slice(0, 8192)),
  coverageSource: () => 'Defender MPLog',
  createParser: (rel) => new MpLogParser(rel),
};
