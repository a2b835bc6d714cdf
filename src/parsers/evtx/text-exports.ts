// Event logs saved in shapes exhunt does not read: `wevtutil qe /f:text`, PowerShell's list and table views written
// to a file (`Get-WinEvent … > events.txt`, `| Format-List | Out-File`), `Export-Clixml` and `ConvertTo-Json` of
// selected properties (whole event records are read: pwsh-json.ts). A client asked for "the event logs" sends these
// too; their events would be counted as an unrelated file in silence.
// They are named in skipped with how to export the log in a form exhunt reads (.evtx, CSV, XML).
import { headText, sniffEncoding } from '../text-encoding.js';

/** How much of the head is looked at: the first record of each shape fits in it. */
const HEAD_CHARS = 4096;

const SHAPES: ReadonlyArray<{ test: (text: string) => boolean; what: string }> = [
  { test: (t) => /^Event\[\d{1,9}\]:\n {2}Log Name: /.test(t), what: 'event log saved as text (wevtutil qe /f:text)' },
  {
    test: (t) => /^TimeCreated +: [^\n]*\nProviderName +: [^\n]*\nId +: /m.test(t) || /^Index +: \d+\nEntryType +: /m.test(t),
    what: 'events saved as a PowerShell list (Get-WinEvent | Format-List, or Get-EventLog)',
  },
  {
    test: (t) => /^ +ProviderName: [^\n]*\n\nTimeCreated +Id +LevelDisplayName +Message\n/m.test(t),
    what: 'events saved as a PowerShell table (Get-WinEvent > file; messages cut to the console width)',
  },
  {
    test: (t) => t.startsWith('<Objs ') && t.includes('http://schemas.microsoft.com/powershell/2004/04') && /<T>System\.Diagnostics\.(?:Eventing\.Reader\.EventLogRecord|EventLogEntry)/.test(t),
    what: 'events saved as PowerShell CliXML (Export-Clixml)',
  },
  {
    test: (t) => (t[0] === '[' || t[0] === '{') && t.includes('"ProviderName"') && t.includes('"TimeCreated"') && /"(?:Id|RecordId)"\s*:/.test(t),
    what: 'events saved as JSON by PowerShell (ConvertTo-Json of selected properties, not an event record as pwsh-json.ts reads)',
  },
];

const ADVICE =
  'export the log again as .evtx (wevtutil epl "<log>" <file>.evtx) or as CSV (Get-WinEvent -LogName "<log>" | Export-Csv <file>.csv) and scan that';

/** First characters one of the shapes can start with (after a BOM and blank lines): a cheap gate for every file. */
const FIRST = new Set(['E', 'T', 'I', ' ', '<', '[', '{']);

/**
 * Why a file holding events in a shape exhunt does not read is not read, or null when it is none of them. Asked of
 * every file the event-log readers did not take.
 */
export function unreadEventExport(head: Buffer): string | null {
  const first = firstChar(head);
  if (first === null || !FIRST.has(first)) return null;
  const enc = sniffEncoding(head);
  const text = headText(head.subarray(0, enc === 'utf8' ? HEAD_CHARS : HEAD_CHARS * 2), enc).replace(/^\n+/, '');
  const shape = SHAPES.find((s) => s.test(text));
  return shape ? `${shape.what}: not read; ${ADVICE}` : null;
}

/** The first character after a BOM and line ends, read from the bytes (UTF-8, or UTF-16LE with or without a BOM). */
function firstChar(head: Buffer): string | null {
  let i = 0;
  let step = 1;
  if (head[0] === 0xff && head[1] === 0xfe) (i = 2), (step = 2);
  else if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  else if (head.length > 3 && head[0] !== 0 && head[1] === 0 && head[3] === 0) step = 2;
  for (; i < head.length; i += step) if (head[i] !== 10 && head[i] !== 13) return String.fromCharCode(head[i]);
  return null;
}
