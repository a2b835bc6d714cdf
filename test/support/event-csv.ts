// Event logs "saved as CSV" the way a client's admin makes them, built from real .evtx samples (read with exhunt's
// own EVTX reader) so that the same events can be scanned both ways. Nothing here is invented:
// - Messages are rendered with published templates only: MSExchange CmdletLogs 1/6 "Cmdlet suceeded. Cmdlet <CMDLET>,
//   parameters <PARAMETERS>" / "Cmdlet failed. …" (Qazeer/artefacts.help microsoft_exchange.md); PowerShell 4104
//   "Creating Scriptblock text (n of m):\r\n<script>\r\n\r\nScriptBlock ID: <id>\r\nPath: <path>" (as Windows event
//   forwarders show it); Sysmon "<title>:" then "<EventData name>: <value>" lines; Security 4688's labelled layout
//   (Microsoft's "4688(S): A new process has been created", as rendered on Windows Server 2012 R2+); Defender 1116
//   as wazuh's published event renders it ("…has detected malware…\r\n For more information please see the
//   following:\r\n<link>\r\n \tName: …\r\n \tID: …" in that order).
// - Columns: Windows PowerShell 5.1 Get-WinEvent | Export-Csv (every EventLogRecord property, `#TYPE` line, every
//   cell quoted), Get-EventLog | Export-Csv (EventLogEntry properties, `#TYPE …EventLogEntry#<log>/<source>/<id>`),
//   Select-Object … | Export-Csv -NoTypeInformation -UseCulture (';' on de-DE), Event Viewer "Save as CSV"
//   (Level,Date and Time,Source,Event ID,Task Category, the message as a sixth unnamed column; the "06:38:24 PM"
//   hour shape of the qsv documentation's Security.csv).
// - Times: DateTime.ToString() of the exporting session's culture in the machine's local time
//   (PowerShell/PowerShell#19536), computed here with Intl for a real zone.
import { readFileSync } from 'node:fs';
import { readEvtxBuffer, type EvtxEvent, type EvtxProblem } from '../../src/parsers/evtx/index.js';

export const SAMPLES = 'test/fixtures/external/EVTX-to-MITRE-Attack';
export const SAMPLE_FILES = {
  cmdlet: `${SAMPLES}/TA0003-Persistence/T1505-Server_Software_Component/ID6-Failed to install an Exchange transport agent.evtx`,
  powershell: `${SAMPLES}/TA0006-Credential_Access/T1003-Credential_dumping/ID800-4103-4104-LSASS dump with LSASSY (PowerShell).evtx`,
  sysmon: `${SAMPLES}/TA0006-Credential_Access/T1003-Credential_dumping/ID1-LSASS dump with LSASSY (SYSMON).evtx`,
  security: `${SAMPLES}/TA0006-Credential_Access/T1003-Credential_dumping/ID4688-4663-4656-LSASS dump with LSASSY (process).evtx`,
  defender: `${SAMPLES}/Antivirus/ID1116-1117-Defender threat detected.evtx`,
} as const;

export function readSample(path: string): EvtxEvent[] {
  const problems: EvtxProblem[] = [];
  return [...readEvtxBuffer(readFileSync(path), problems)];
}

const d = (e: EvtxEvent, k: string): string => (Array.isArray(e.data) ? '' : (e.data[k] ?? ''));
const SYSMON_TITLES = new Map([[1, 'Process Create'], [10, 'Process accessed'], [11, 'File created']]);

/** The message Windows renders for the event, or null when its template is not published (the event is left out). */
export function renderMessage(e: EvtxEvent): string | null {
  // Unnamed insertion strings: the cmdlet, then its parameters.
  if (e.provider === 'MSExchange CmdletLogs' && Array.isArray(e.data) && (e.eventId === 1 || e.eventId === 6)) {
    return `Cmdlet ${e.eventId === 1 ? 'suceeded' : 'failed'}. Cmdlet ${e.data[0]}, parameters ${e.data[1]}`;
  }
  if (e.provider === 'Microsoft-Windows-PowerShell' && e.eventId === 4104) {
    return `Creating Scriptblock text (${d(e, 'MessageNumber')} of ${d(e, 'MessageTotal')}):\r\n${d(e, 'ScriptBlockText')}\r\n\r\nScriptBlock ID: ${d(e, 'ScriptBlockId')}\r\nPath: ${d(e, 'Path')}`;
  }
  if (e.provider === 'Microsoft-Windows-Sysmon' && SYSMON_TITLES.has(e.eventId ?? -1) && !Array.isArray(e.data)) {
    return [`${SYSMON_TITLES.get(e.eventId!)}:`, ...Object.entries(e.data).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  }
  if (e.provider === 'Microsoft-Windows-Security-Auditing' && e.eventId === 4688) {
    return [
      'A new process has been created.',
      '',
      'Creator Subject:',
      `\tSecurity ID:\t\t${d(e, 'SubjectUserSid')}`,
      `\tAccount Name:\t\t${d(e, 'SubjectUserName')}`,
      `\tAccount Domain:\t\t${d(e, 'SubjectDomainName')}`,
      `\tLogon ID:\t\t${d(e, 'SubjectLogonId')}`,
      '',
      'Target Subject:',
      `\tSecurity ID:\t\t${d(e, 'TargetUserSid')}`,
      `\tAccount Name:\t\t${d(e, 'TargetUserName')}`,
      `\tAccount Domain:\t\t${d(e, 'TargetDomainName')}`,
      `\tLogon ID:\t\t${d(e, 'TargetLogonId')}`,
      '',
      'Process Information:',
      `\tNew Process ID:\t\t${d(e, 'NewProcessId')}`,
      `\tNew Process Name:\t${d(e, 'NewProcessName')}`,
      `\tToken Elevation Type:\t${d(e, 'TokenElevationType')}`,
      `\tMandatory Label:\t\t${d(e, 'MandatoryLabel')}`,
      `\tCreator Process ID:\t${d(e, 'ProcessId')}`,
      `\tCreator Process Name:\t${d(e, 'ParentProcessName')}`,
      `\tProcess Command Line:\t${d(e, 'CommandLine')}`,
      '',
      'Token Elevation Type indicates the type of token that was assigned to the new process in accordance with User Account Control policy.',
    ].join('\r\n');
  }
  if (e.provider === 'Microsoft-Windows-Windows Defender' && e.eventId === 1116) {
    const lines = [['Name', 'Threat Name'], ['ID', 'Threat ID'], ['Severity', 'Severity Name'], ['Category', 'Category Name'], ['Path', 'Path'], ['Detection Origin', 'Origin Name'], ['Detection Type', 'Type Name'], ['Detection Source', 'Source Name'], ['User', 'Detection User'], ['Process Name', 'Process Name'], ['Security intelligence Version', 'Security intelligence Version'], ['Engine Version', 'Engine Version']];
    return ['Microsoft Defender Antivirus has detected malware or other potentially unwanted software.', ' For more information please see the following:', d(e, 'FWLink'), ...lines.map(([label, name]) => ` \t${label}: ${d(e, name)}`)].join('\r\n');
  }
  return null;
}

export type Culture = 'en-US' | 'de-DE' | 'en-GB' | 'event-viewer-en-US';

/** The event's UTC time as the exporting session writes it: `zone`'s wall clock in `culture`'s DateTime.ToString(). */
export function localTime(iso: string, zone: string, culture: Culture): string {
  const parts: Record<string, string> = {};
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });
  for (const p of fmt.formatToParts(new Date(iso))) parts[p.type] = p.value;
  const [y, mo, da, h, mi, s] = [parts.year, parts.month, parts.day, Number(parts.hour), parts.minute, parts.second];
  const p2 = (v: string | number) => String(v).padStart(2, '0');
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const ampm = h < 12 ? 'AM' : 'PM';
  if (culture === 'en-US') return `${mo}/${da}/${y} ${h12}:${mi}:${s} ${ampm}`;
  if (culture === 'event-viewer-en-US') return `${mo}/${da}/${y} ${p2(h12)}:${mi}:${s} ${ampm}`;
  if (culture === 'de-DE') return `${p2(da)}.${p2(mo)}.${y} ${p2(h)}:${mi}:${s}`;
  return `${p2(da)}/${p2(mo)}/${y} ${p2(h)}:${mi}:${s}`;
}

/** A CSV cell as Export-Csv writes it: always quoted, `"` doubled. */
export const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const LEVEL_NAMES = new Map([[1, 'Critical'], [2, 'Error'], [3, 'Warning'], [4, 'Information'], [5, 'Verbose'], [0, 'Information']]);
const LEVEL_NAMES_DE = new Map([[1, 'Kritisch'], [2, 'Fehler'], [3, 'Warnung'], [4, 'Informationen'], [5, 'Ausführlich'], [0, 'Informationen']]);
const LEVEL_NAMES_FR = new Map([[1, 'Critique'], [2, 'Erreur'], [3, 'Avertissement'], [4, 'Information'], [5, 'Commentaires'], [0, 'Information']]);

export interface CsvRowOf {
  /** The event's EventRecordID, for comparing findings. */
  record: number;
  event: EvtxEvent;
  message: string;
}

/** The sample's events that have a published template, with their messages. */
export function renderable(events: EvtxEvent[]): CsvRowOf[] {
  return events.flatMap((event) => {
    const message = renderMessage(event);
    return message === null ? [] : [{ record: event.record, event, message }];
  });
}

const GET_WINEVENT_COLUMNS = ['Message', 'Id', 'Version', 'Qualifiers', 'Level', 'Task', 'Opcode', 'Keywords', 'RecordId', 'ProviderName', 'ProviderId', 'LogName', 'ProcessId', 'ThreadId', 'MachineName', 'UserId', 'TimeCreated', 'ActivityId', 'RelatedActivityId', 'ContainerLog', 'MatchedQueryIds', 'Bookmark', 'LevelDisplayName', 'OpcodeDisplayName', 'TaskDisplayName', 'KeywordsDisplayNames', 'Properties'];

/** Windows PowerShell 5.1: Get-WinEvent -LogName <channel> | Export-Csv <file> (with the #TYPE line). */
export function getWinEventCsv(rows: CsvRowOf[], zone: string, culture: Culture, typeLine = true): string {
  const lines = typeLine ? ['#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord'] : [];
  lines.push(GET_WINEVENT_COLUMNS.map(quote).join(','));
  for (const { event: e, message } of rows) {
    const cells: Record<string, string> = {
      Message: message,
      Id: String(e.eventId),
      Version: e.system.Version ?? '',
      Qualifiers: e.system.Qualifiers ?? '',
      Level: String(e.level ?? ''),
      Task: e.system.Task ?? '',
      Opcode: e.system.Opcode ?? '',
      Keywords: e.system.Keywords ?? '',
      RecordId: String(e.record),
      ProviderName: e.provider,
      ProviderId: (e.system.ProviderGuid ?? '').replace(/[{}]/g, '').toLowerCase(),
      LogName: e.channel,
      ProcessId: e.system.ProcessID ?? '',
      ThreadId: e.system.ThreadID ?? '',
      MachineName: e.computer,
      UserId: e.system.UserID ?? '',
      TimeCreated: localTime(e.time!, zone, culture),
      ActivityId: '',
      RelatedActivityId: '',
      ContainerLog: e.channel,
      MatchedQueryIds: 'System.UInt32[]',
      Bookmark: 'System.Diagnostics.Eventing.Reader.EventBookmark',
      LevelDisplayName: LEVEL_NAMES.get(e.level ?? 4) ?? '',
      OpcodeDisplayName: '',
      TaskDisplayName: '',
      KeywordsDisplayNames: 'System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]',
      Properties: 'System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]',
    };
    // Windows PowerShell 5.1 leaves empty properties unquoted.
    lines.push(GET_WINEVENT_COLUMNS.map((c) => (cells[c] === '' ? '' : quote(cells[c]))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Get-WinEvent … | Select-Object TimeCreated,Id,LevelDisplayName,ProviderName,Message | Export-Csv -NoTypeInformation -UseCulture. */
export function selectedCsv(rows: CsvRowOf[], zone: string, culture: Culture, delimiter: string): string {
  const lines = [['TimeCreated', 'Id', 'LevelDisplayName', 'ProviderName', 'Message'].map(quote).join(delimiter)];
  for (const { event: e, message } of rows) lines.push([localTime(e.time!, zone, culture), String(e.eventId), LEVEL_NAMES.get(e.level ?? 4) ?? '', e.provider, message].map(quote).join(delimiter));
  return lines.join('\r\n') + '\r\n';
}

/**
 * Event Viewer's words per display language: the level (or, for the Security log, keywords) column, the other four
 * header names, level names, the empty task, the audit results and the date shape. English and German as real
 * exports show them (below); French as French Windows words them (no public export to check against: exhunt reads
 * such a header by its shape, not its words).
 */
const VIEWER_WORDS = {
  en: { level: 'Level', keywords: 'Keywords', rest: 'Date and Time,Source,Event ID,Task Category', levels: LEVEL_NAMES, none: 'None', success: 'Audit Success', failure: 'Audit Failure', culture: 'event-viewer-en-US' },
  de: { level: 'Ebene', keywords: 'Schlüsselwörter', rest: 'Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie', levels: LEVEL_NAMES_DE, none: 'Keine', success: 'Überwachung erfolgreich', failure: 'Überwachung gescheitert', culture: 'de-DE' },
  fr: { level: 'Niveau', keywords: 'Mots clés', rest: 'Date et heure,Source,ID de l’événement,Catégorie de la tâche', levels: LEVEL_NAMES_FR, none: 'Aucun', success: 'Succès de l’audit', failure: 'Échec de l’audit', culture: 'en-GB' },
} as const;

/** Event Viewer: Save All Events As… CSV (the message as an unnamed sixth column, quoted when it needs it). */
export function eventViewerCsv(rows: CsvRowOf[], zone: string, lang: keyof typeof VIEWER_WORDS = 'en', security = false): string {
  const w = VIEWER_WORDS[lang];
  // The Security log's view shows Keywords where the others show Level (real exports: "Keywords,Date and
  // Time,Source,Event ID,Task Category" / "Audit Success,6/25/2021 5:33:09 PM,…"); German Event Viewer writes
  // "Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie" / "Informationen,27.10.2021 12:28:26,…".
  const lines = [`${security ? w.keywords : w.level},${w.rest}`];
  const cell = (s: string) => (/[",\r\n]/.test(s) ? quote(s) : s);
  for (const { event: e, message } of rows) {
    const audit = e.system.Keywords === '0x8010000000000000' ? w.failure : w.success;
    const level = security ? audit : (w.levels.get(e.level ?? 4) ?? '');
    lines.push([level, localTime(e.time!, zone, w.culture), e.provider, String(e.eventId), e.system.Task ? `(${e.system.Task})` : w.none, cell(message)].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

const GET_EVENTLOG_COLUMNS = ['EventID', 'MachineName', 'Data', 'Index', 'Category', 'CategoryNumber', 'EntryType', 'Message', 'Source', 'ReplacementStrings', 'InstanceId', 'TimeGenerated', 'TimeWritten', 'UserName', 'Site', 'Container'];

/** Windows PowerShell 5.1: Get-EventLog -LogName <log> | Export-Csv <file>. */
export function getEventLogCsv(rows: CsvRowOf[], log: string, zone: string, culture: Culture): string {
  const first = rows[0]?.event;
  const lines = [`#TYPE System.Diagnostics.EventLogEntry#${log}/${first?.provider ?? ''}/${first?.eventId ?? 0}`, GET_EVENTLOG_COLUMNS.map(quote).join(',')];
  for (const { event: e, message } of rows) {
    const t = localTime(e.time!, zone, culture);
    const cells = [String(e.eventId), e.computer, 'System.Byte[]', String(e.record), '(13312)', '13312', e.system.Keywords === '0x8020000000000000' ? 'SuccessAudit' : (LEVEL_NAMES.get(e.level ?? 4) ?? ''), message, e.provider, 'System.String[]', String(e.eventId), t, t, '', '', ''];
    lines.push(cells.map((c) => (c === '' ? '' : quote(c))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** -Encoding Unicode (Windows PowerShell 5.1): UTF-16LE with a BOM. */
export const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
/** -Encoding UTF8 (Windows PowerShell 5.1): UTF-8 with a BOM. */
export const utf8Bom = (text: string): Buffer => Buffer.from(`\uFEFF${text}`, 'utf8');
