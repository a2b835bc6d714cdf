// Event data taken back out of a rendered message, for events that reach exhunt with their message only (event logs
// saved as CSV keep the rendered text, never EventData). Only message templates that are published and whose values
// can be read back without guessing:
// - MSExchange CmdletLogs 1 / 6: "Cmdlet suceeded. Cmdlet <CMDLET>, parameters <PARAMETERS>" and "Cmdlet failed. …"
//   (Qazeer/artefacts.help microsoft_exchange.md, Microsoft's spelling): insertion strings 0 and 1, as in the .evtx.
//   The caller (insertion string 2) is not in the message.
// - Sysmon: every line of the message is "<EventData name>: <value>" (SigmaHQ and Splunk read Image, ParentImage,
//   CommandLine, TargetFilename from it by name).
// - PowerShell 4104: "Creating Scriptblock text (<n> of <m>):\n<ScriptBlockText>\n\nScriptBlock ID: <id>\nPath: <path>"
//   (the rendering Windows event forwarders and Get-WinEvent show; e.g. mdecrevoisier/EVTX-to-MITRE-Attack's
//   Splunk-JSON exports).
// - Security 4688: "New Process Name:", "Creator Process Name:", "Process Command Line:" … under "Process
//   Information:" (Microsoft's event 4688 documentation; the rendered text as logged by Windows Server 2012 R2+).
// - Defender 1006/1007/1116/1117: "\tName: <Threat Name>", "\tPath: <Path>" … lines (the rendering in wazuh's and
//   winlogbeat's published 1116 events; Microsoft's "Microsoft Defender Antivirus event IDs"). The message is
//   rendered with the exporting machine's own Defender, so its labels and values agree.
// Everything else keeps its message only: rules that read other EventData fields cannot be evaluated on it.

/** The EventData a message gives back, or null when its template is not one of the above. */
export function dataFromMessage(provider: string, eventId: number | null, message: string): Record<string, string> | string[] | null {
  if (provider === 'MSExchange CmdletLogs' && (eventId === 1 || eventId === 6)) return cmdletData(message);
  if (provider === 'Microsoft-Windows-Sysmon') return sysmonData(message);
  if (eventId === 4688 && provider === 'Microsoft-Windows-Security-Auditing') return labelled(message, PROCESS_4688);
  if (eventId === 4104 && provider === 'Microsoft-Windows-PowerShell') return scriptBlockData(message);
  if (provider === 'Microsoft-Windows-Windows Defender' && eventId !== null && DEFENDER_IDS.has(eventId)) return labelled(message, DEFENDER);
  return null;
}

const CMDLET = /^Cmdlet (?:suc{1,2}ee?ded|failed)\. {0,4}Cmdlet ([A-Za-z][\w-]{0,100}), parameters ?/;

function cmdletData(message: string): string[] | null {
  const m = CMDLET.exec(message);
  return m ? [m[1], message.slice(m[0].length).trim()] : null;
}

const SCRIPT_HEAD = /^Creating Scriptblock text \((\d{1,6}) of (\d{1,6})\):\r?\n/;
const SCRIPT_TAIL = /^\nScriptBlock ID: ([^\r\n]{0,100})\r?\nPath: ?([^\r\n]*)$/;

function scriptBlockData(message: string): Record<string, string> | null {
  const head = SCRIPT_HEAD.exec(message);
  if (!head) return null;
  const body = message.trimEnd();
  // The footer is the last lines: searched from the end, as the script itself may hold the same words.
  const tailAt = body.lastIndexOf('\nScriptBlock ID: ');
  const tail = tailAt >= head[0].length - 1 ? SCRIPT_TAIL.exec(body.slice(tailAt)) : null;
  if (!tail) return { MessageNumber: head[1], MessageTotal: head[2], ScriptBlockText: message.slice(head[0].length) };
  const text = body.slice(head[0].length, tailAt).replace(/\r?\n\r?$/, '');
  return { MessageNumber: head[1], MessageTotal: head[2], ScriptBlockText: text, ScriptBlockId: tail[1], Path: tail[2].trim() };
}

function sysmonData(message: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  let any = false;
  for (const line of message.split(/\r?\n/)) {
    const colon = line.indexOf(': ');
    if (colon < 1 || colon > 40) continue;
    const name = line.slice(0, colon);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) continue;
    out[name] = line.slice(colon + 2).trim();
    any = true;
  }
  return any ? out : null;
}

/** Labels of the 4688 message and the EventData names they render (first occurrence wins: the creator's subject). */
const PROCESS_4688 = new Map([
  ['New Process ID', 'NewProcessId'],
  ['New Process Name', 'NewProcessName'],
  ['Creator Process ID', 'ProcessId'],
  ['Creator Process Name', 'ParentProcessName'],
  ['Process Command Line', 'CommandLine'],
  ['Account Name', 'SubjectUserName'],
  ['Account Domain', 'SubjectDomainName'],
]);

const DEFENDER_IDS = new Set([1006, 1007, 1116, 1117]);
/** Labels of the Defender detection messages and their EventData names. */
const DEFENDER = new Map([
  ['Name', 'Threat Name'],
  ['ID', 'Threat ID'],
  ['Severity', 'Severity Name'],
  ['Category', 'Category Name'],
  ['Path', 'Path'],
  ['Detection Origin', 'Origin Name'],
  ['Detection Type', 'Type Name'],
  ['Detection Source', 'Source Name'],
  ['User', 'Detection User'],
  ['Process Name', 'Process Name'],
  ['Action', 'Action Name'],
]);

function labelled(message: string, labels: Map<string, string>): Record<string, string> | null {
  const out: Record<string, string> = {};
  let any = false;
  for (const line of message.split(/\r?\n/)) {
    const t = line.trim();
    const colon = t.indexOf(':');
    if (colon < 1) continue;
    const name = labels.get(t.slice(0, colon));
    if (name === undefined || Object.hasOwn(out, name)) continue;
    out[name] = t.slice(colon + 1).trim();
    any = true;
  }
  return any ? out : null;
}
