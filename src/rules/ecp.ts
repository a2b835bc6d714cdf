// CVE-2021-27065 in ECP Server logs: a web shell planted through a *VirtualDirectory URL. detections.md PL-20..PL-22.
import type { LogRecord } from '../model.js';
import { decodeCmd, ecpCanary } from '../parsers/ecp.js';
import { longFolderNames, markupIn, orNull, shellPassword } from './matchers.js';
import { REF } from './references.js';
import type { RecordRule } from './types.js';

const CVES = ['CVE-2021-27065'];

function cmdOf(rec: LogRecord): ReturnType<typeof decodeCmd> | null {
  const cmd = rec.fields['S:CMD'];
  return cmd ? decodeCmd(cmd) : null;
}

function ecpEvidence(rec: LogRecord, cmdlet: string): Record<string, string | null> {
  return {
    cmdlet,
    command: orNull(rec.fields['S:CMD']),
    ecp_canary: ecpCanary(rec.fields['S:URL']),
    url: orNull(rec.fields['S:URL']),
    request_id: orNull(rec.fields['S:REQID']),
    error: orNull(rec.fields['S:EX']),
    server: orNull(rec.fields.ServerName),
  };
}

// Code matchers: S:CMD is an encoded command line that must be decoded into parameters before a URL-named parameter
// can be tested for markup (PL-22) or for $null (PL-22b); a condition over the raw field cannot say which parameter.
export const ECP_RULES: RecordRule[] = [
  {
    id: 'PL-22',
    title: 'Web shell written through a virtual-directory URL (CVE-2021-27065)',
    cves: CVES,
    severity: 'critical',
    kind: 'webshell',
    references: [REF.testProxyLogon, REF.volexity, REF.helsecert, REF.sigBase27065, REF.chirp],
    description:
      'A Set-*VirtualDirectory cmdlet stored script or server-side markup in a URL property; resetting the directory then writes that markup as an .aspx file (the China Chopper OAB shell). A normal URL change is not a finding.',
    formats: ['ecp-server'],
    needles: ['VirtualDirectory'],
    match(rec) {
      const cmd = cmdOf(rec);
      if (!cmd || !/^Set-\w*VirtualDirectory$/i.test(cmd.cmdlet)) return null;
      const hits = cmd.params.filter(([name, value]) => /url$/i.test(name) && markupIn(value) !== null);
      if (hits.length === 0) return null;
      const [param, value] = hits[0];
      const password = shellPassword(value);
      return {
        summary: `${cmd.cmdlet} set ${param} to markup ${JSON.stringify(value.slice(0, 160))}${password ? ` (shell password "${password}")` : ''}`,
        evidence: { ...ecpEvidence(rec, cmd.cmdlet), parameter: param, value, markup: markupIn(value), shell_password: password },
      };
    },
  },
  {
    id: 'PL-22b',
    title: 'OAB virtual directory cleared, removed or re-created through ECP',
    cves: CVES,
    severity: 'info',
    kind: 'post-exploitation',
    references: [REF.helsecert],
    description:
      'After writing the shell, attackers set ExternalUrl back to $null and removed / re-created the OAB virtual directory (HelseCERT). Routine for admins too: context for a PL-22 hit, not a finding on its own.',
    formats: ['ecp-server'],
    needles: ['OabVirtualDirectory'],
    match(rec) {
      const cmd = cmdOf(rec);
      if (!cmd) return null;
      const cleared = /^Set-OabVirtualDirectory$/i.test(cmd.cmdlet) && cmd.params.some(([n, v]) => /url$/i.test(n) && v === '$null');
      if (!cleared && !/^(Remove|New)-OabVirtualDirectory$/i.test(cmd.cmdlet)) return null;
      return { summary: `${cmd.cmdlet} ${cmd.params.map(([n, v]) => `${n}=${v}`).join(' ')}`.trim(), evidence: ecpEvidence(rec, cmd.cmdlet) };
    },
  },
];

const OAB_HEAD = 'download failed and temporary file';
const OAB_TAIL = 'needs to be removed';

/**
 * The path in "Download failed and temporary file '<path>' needs to be removed", or null. Found with indexOf, not
 * one regex: the lazy `\s+'?(.*?)'?\s+` shape backtracks cubically over a long run of spaces (10 KB: 9 minutes).
 */
function oabTempFile(message: string): string | null {
  const lower = message.toLowerCase();
  const head = lower.indexOf(OAB_HEAD);
  if (head < 0) return null;
  const start = head + OAB_HEAD.length;
  if (!/\s/.test(message.charAt(start))) return null;
  let tail = lower.indexOf(OAB_TAIL, start);
  while (tail >= 0 && !/\s/.test(message.charAt(tail - 1))) tail = lower.indexOf(OAB_TAIL, tail + 1);
  if (tail < 0) return null;
  const inner = message.slice(start, tail).trim();
  return inner.replace(/^'/, '').replace(/'$/, '');
}

/**
 * CVE-2021-26858: the OAB generator wrote a "temporary" download outside its own folder. detections.md PL-30/31.
 * Code: the path is cut out of a free-text message and classified (separators, OAB folder, script extension).
 */
export const OABGEN_RULES: RecordRule[] = [
  {
    id: 'PL-30',
    title: 'OAB generator wrote a file outside ClientAccess\\OAB (CVE-2021-26858)',
    cves: ['CVE-2021-26858'],
    severity: 'critical',
    kind: 'exploitation',
    references: [REF.testProxyLogon, REF.msHafniumBlog, REF.sentinelOab],
    description:
      'The OAB generator reports a failed download whose temporary file is outside <Exchange>\\ClientAccess\\OAB: the arbitrary file write used to drop web shells. The path and whether the file is in the evidence are reported.',
    formats: ['oabgen'],
    needles: ['Download failed and temporary file'],
    match(rec) {
      const file = oabTempFile(rec.fields.Message ?? '');
      if (file === null) return null;
      const norm = longFolderNames(file.replace(/\//g, '\\'));
      const script = /\.(php|jsp|js|aspx|asmx|asax|cfm|shtml|ashx)$/i.test(norm);
      const inOab = /\\ClientAccess\\OAB\\/i.test(norm) && !/\\inetpub\\|aspnet_client|\\FrontEnd\\HttpProxy\\/i.test(norm);
      if (inOab && !script) return null;
      return {
        summary: `OAB download temporary file ${file}${script ? ' (a script extension)' : ''} is outside ClientAccess\\OAB`,
        evidence: { file, script_extension: script, line_text: rec.fields.Message ?? null },
      };
    },
  },
];
