// Detections in Microsoft Defender's support log (MPLog, src/parsers/defender.ts): the same threat names as PX-16
// reads in the Defender Operational event log, which rolls over long before the MPLog files do.
import type { RecordRule } from './types.js';
import { orNull } from './matchers.js';
import { REF } from './references.js';
import { CHOPPER, EXCHANGE_THREAT, webScript } from './evtx.js';

const THREAT = new RegExp(EXCHANGE_THREAT, 'i');
const f = (fields: Record<string, string>, name: string): string => fields[name] ?? '';

const PX20: RecordRule = {
  id: 'PX-20',
  title: 'Defender support log (MPLog) recorded an Exchange exploit or web shell',
  cves: [],
  severity: 'critical',
  kind: 'webshell',
  references: [
    'Qazeer/artefacts.help windows_defender_support_logs.html (MPLog DETECTION_ADD, DETECTIONEVENT, DETECTION_CLEANEVENT and EMS detection lines)',
    'Qazeer/artefacts.help microsoft_exchange.md (Defender names seen on Exchange)',
    REF.msHafniumBlog,
  ],
  description:
    "Microsoft Defender's MPLog names a threat that points at Exchange exploitation or a web shell (Exmann, Chopper, Backdoor:ASP/…, IISExchgSpawnCMD, the ProxyLogon/ProxyShell CVEs), with the file it was found in: the detection record that outlives the Defender event log. A quarantined shell was still written there.",
  formats: ['defender-mplog'],
  needles: ['DETECTION'],
  attack: ['attack.persistence', 'attack.t1505.003'],
  grades: [
    {
      as: 'PX-20 exploit',
      title: 'Defender support log (MPLog) recorded Exchange exploit text outside a web page',
      severity: 'critical',
      kind: 'exploitation',
      when: "the detection names a file IIS does not run as code (Exmann in an Exchange log or OAB file: the exploit's text reached the server, the file is evidence to keep) or no file (a memory or process detection)",
    },
  ],
  match(rec) {
    const threat = f(rec.fields, 'Threat');
    if (!threat || !THREAT.test(threat)) return null;
    const event = f(rec.fields, 'Event');
    const file = f(rec.fields, 'Schema') === 'file' ? f(rec.fields, 'Resource') : '';
    const action = f(rec.fields, 'Action').replace(/^MP_THREAT_ACTION_/, '').toLowerCase();
    const shell = webScript(file);
    return {
      summary: `Defender MPLog ${event}: ${threat}${file ? ` in ${file}` : ''}${action ? ` (${action})` : ''}`,
      // Only a shell's path is `file` (the file to remove, a STIX indicator); a log the exploit text reached is `detected_in`.
      evidence: {
        threat,
        ...(shell ? { file } : { detected_in: orNull(file) }),
        resource: orNull(f(rec.fields, 'Resource')),
        container_part: orNull(f(rec.fields, 'ContainerPart')),
        event,
        action: orNull(action),
        line_text: f(rec.fields, 'Message').slice(0, 2000),
      },
      ...(shell ? {} : { grade: 'PX-20 exploit' }),
    };
  },
};

const PX21: RecordRule = {
  id: 'PX-21',
  title: 'Defender support log (MPLog) recorded a China Chopper command',
  cves: [],
  severity: 'critical',
  kind: 'webshell',
  references: [
    'Qazeer/artefacts.help windows_defender_support_logs.html (MPLog "Engine:command line reported as lowfi|threat" lines)',
    'SigmaHQ/sigma "Chopper Webshell Process Pattern" (fa3c117a)',
    'https://redcanary.com/blog/microsoft-exchange-attacks/',
  ],
  description:
    'Defender logged a command line it found suspicious with the "&cd&echo" / "&echo [S]" framing only the China Chopper web shell writes (PX-01 in process-creation events): a web shell ran commands, even where no process auditing was on.',
  formats: ['defender-mplog'],
  needles: ['&echo'],
  attack: ['attack.persistence', 'attack.t1505.003'],
  match(rec) {
    const cmd = f(rec.fields, 'CommandLine');
    if (!cmd) return null;
    const lower = cmd.toLowerCase();
    const marker = CHOPPER.find((m) => lower.includes(m));
    if (!marker) return null;
    return {
      summary: `Defender MPLog command line (${f(rec.fields, 'Level')}) with China Chopper framing ${marker}: ${cmd.replace(/\s+/g, ' ').slice(0, 200)}`,
      evidence: { command_line: cmd.slice(0, 4000), marker, defender_level: f(rec.fields, 'Level') },
    };
  },
};

export const DEFENDER_RULES: RecordRule[] = [PX20, PX21];
