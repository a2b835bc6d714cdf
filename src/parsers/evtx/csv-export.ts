// Event logs saved as CSV, read into the event model: what a client sends when the server is already rebuilt.
// Shapes (recognised from the header, whatever the file name):
//   Get-WinEvent | Export-Csv   Windows PowerShell 5.1: `#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord`, then
//                               "Message","Id","Version","Qualifiers","Level",…,"ProviderName",…,"LogName",…,
//                               "MachineName","UserId","TimeCreated",…; PowerShell 6+ and -NoTypeInformation: no #TYPE.
//   Get-EventLog | Export-Csv   `#TYPE System.Diagnostics.EventLogEntry#<log>/<source>/<id>`, "EventID","MachineName",
//                               "Data","Index","Category","CategoryNumber","EntryType","Message","Source",…,
//                               "InstanceId","TimeGenerated","TimeWritten","UserName",…
//   Select-Object … | Export-Csv an id, a time and a text column under PowerShell's names (any order, any delimiter:
//                               -UseCulture writes ';' on de-DE/fr-FR, -Delimiter "`t").
//   Event Viewer "Save as CSV"  Level,Date and Time,Source,Event ID,Task Category — and the message as a sixth,
//                               unnamed column; the Security log's view has Keywords ("Audit Success") first. The
//                               header is in the display language: German Ebene (Schlüsselwörter),Datum und Uhrzeit,
//                               Quelle,Ereignis-ID,Aufgabenkategorie (mdecrevoisier/EVTX-to-MITRE-Attack's PrintService
//                               export as a public dataset catalogue shows it). Columns are then read by position.
// Before the header: blank lines and an Excel `sep=<delimiter>` line (a file saved or fixed up in Excel) are skipped.
// Every cell may be quoted ("" escapes), a message spans lines. Encodings: Windows PowerShell 5.1 Export-Csv writes
// ASCII by default (other characters become '?'), -Encoding Unicode UTF-16LE with a BOM, UTF8 with a BOM; PowerShell
// 6+ UTF-8 without one. The rendered message is all there is: no EventData (rendered.ts takes back what published
// templates allow), and times are local without a zone (csv-time.ts).
import { StringDecoder } from 'node:string_decoder';
import type { EvtxProblem } from './chunk.js';
import { systemFields, type EvtxEvent } from './event.js';
import { dataFromMessage } from './rendered.js';
import { inRepeatedHour, parseStamp, stampToUtc, localText, type DateOrder, type DateOrderVotes, type ZoneToUtc } from './csv-time.js';

export interface EventCsvShape {
  /** How the file was made, as said in reports. */
  what: string;
  encoding: 'utf8' | 'utf16le';
  delimiter: string;
  /** Event Viewer: the message is the unnamed column after the header's. */
  eventViewer: boolean;
  /** The log name PowerShell's #TYPE line names (Get-EventLog), else ''. */
  typeLog: string;
}

// Columns under PowerShell's names (Get-WinEvent, Get-EventLog, Get-CimInstance Win32_NTLogEvent), lower case, in
// order of preference.
const ID_COLUMNS = ['id', 'eventid', 'event id', 'eventcode', 'instanceid', 'eventidentifier'];
const TIME_COLUMNS = ['timecreated', 'timegenerated', 'date and time', 'timewritten'];
const TEXT_COLUMNS = ['message', 'providername', 'source', 'sourcename', 'logname', 'logfile', 'leveldisplayname', 'entrytype'];
const PROVIDER_COLUMNS = ['providername', 'source', 'sourcename', 'provider'];
const CHANNEL_COLUMNS = ['logname', 'containerlog', 'logfile'];
const LEVEL_COLUMNS = ['level', 'leveldisplayname', 'entrytype', 'type'];
const MESSAGE_COLUMNS = ['message', 'description'];
const COMPUTER_COLUMNS = ['machinename', 'computername', 'computer'];
const RECORD_COLUMNS = ['recordid', 'index', 'recordnumber'];
const USER_COLUMNS = ['userid', 'username', 'user'];

/** Event Viewer's header by display language: level (or, for the Security log, keywords), date, source, id, task. */
const EVENT_VIEWER: ReadonlyArray<{ lang: string; first: readonly string[]; rest: readonly string[] }> = [
  { lang: '', first: ['level', 'keywords'], rest: ['date and time', 'source', 'event id', 'task category'] },
  { lang: ', German', first: ['ebene', 'schlüsselwörter'], rest: ['datum und uhrzeit', 'quelle', 'ereignis-id', 'aufgabenkategorie'] },
];
/**
 * Level names as Get-WinEvent's LevelDisplayName, Get-EventLog's EntryType and Event Viewer write them: English, and
 * German Event Viewer's.
 */
const LEVELS = new Map([
  ['critical', 1], ['error', 2], ['warning', 3], ['information', 4], ['verbose', 5],
  ['kritisch', 1], ['fehler', 2], ['warnung', 3], ['informationen', 4], ['ausführlich', 5],
]);

const HEAD_CHARS = 4096;

function decodeHead(head: Buffer): { text: string; encoding: 'utf8' | 'utf16le' } | null {
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head.length > 3 && head[1] === 0 && head[3] === 0 && head[0] !== 0);
  // A sweep asks this of every file: text that starts with a NUL or a control byte is no CSV.
  if (!utf16 && head.length > 0 && head[0] < 0x20 && head[0] !== 0x09 && head[0] !== 0x0a && head[0] !== 0x0d) return null;
  const encoding = utf16 ? 'utf16le' : 'utf8';
  const end = Math.min(head.length, HEAD_CHARS * (utf16 ? 2 : 1));
  // Bytes first: UTF-8 text with no line end in it (a minified script, a binary) is not decoded to be turned down.
  if (!utf16 && head.subarray(0, end).indexOf(0x0a) < 0 && head.subarray(0, end).indexOf(0x0d) < 0) return null;
  return { text: head.toString(encoding, 0, end).replace(/^\uFEFF/, ''), encoding };
}

/**
 * Event Viewer's export whatever its display language (French, Spanish, … headers are not listed above): a header of
 * five names, and a first row with a sixth cell (the message), a date and time second and an event id fourth. An
 * ordinary CSV has as many cells per row as header names.
 */
function eventViewerShape(header: string[], row: string, delimiter: string): boolean {
  if (header.length !== 5 || header.some((c) => c === '' || /^\d/.test(c))) return false;
  const cells = row.split(delimiter).map((c) => c.trim().replace(/^"|"$/g, ''));
  return cells.length >= 6 && parseStamp(cells[1]) !== null && /^\d{1,5}$/.test(cells[3]);
}

/** Header cells (lower case, unquoted) and the delimiter of a header line. */
function headerOf(line: string, sep: string | null): { cells: string[]; delimiter: string } | null {
  const best = (sep !== null ? [sep] : [',', ';', '\t', '|']).map((d) => ({ d, n: line.split(d).length })).sort((a, b) => b.n - a.n)[0];
  if (best.n < 3) return null;
  return { cells: line.split(best.d).map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase()), delimiter: best.d };
}

/** The shape of an event log saved as CSV, from its first bytes; null for any other file. */
export function detectEventCsv(head: Buffer): EventCsvShape | null {
  const decoded = decodeHead(head);
  if (!decoded) return null;
  // A header line ends within the head: a first line longer than that is no CSV export (binary, minified text).
  // Lines end in CRLF or LF; a lone CR (a file saved by an old Mac tool) is read as a line break too.
  if (decoded.text.indexOf('\n') < 0 && decoded.text.indexOf('\r') < 0) return null;
  const lines = decoded.text.split(/\r\n|\n|\r/, 12);
  let at = 0;
  let sep: string | null = null;
  for (; at < lines.length - 1; at++) {
    const m = SEP_LINE.exec(lines[at]);
    if (m) sep = m[1];
    else if (lines[at].trim() !== '') break;
  }
  const type = lines[at].startsWith('#TYPE ') ? lines[at].slice(6).trim() : null;
  const header = headerOf((type !== null ? lines[at + 1] : lines[at]) ?? '', sep);
  if (!header) return null;
  const { cells, delimiter } = header;
  const has = (names: string[]) => cells.some((c) => names.includes(c));
  const base = { encoding: decoded.encoding, delimiter, eventViewer: false, typeLog: '' };
  const viewer = EVENT_VIEWER.find((h) => h.first.includes(cells[0]) && h.rest.every((n, i) => cells[i + 1] === n));
  if (viewer) return { ...base, what: `Event Viewer "Save as CSV"${viewer.lang}${cells[0] === viewer.first[1] ? ', Security log' : ''}`, eventViewer: true };
  if (type === null && eventViewerShape(cells, lines[at + 1] ?? '', delimiter)) return { ...base, what: 'Event Viewer "Save as CSV", header in another display language', eventViewer: true };
  if (type?.startsWith('System.Diagnostics.Eventing.Reader.EventLogRecord')) return { ...base, what: 'Get-WinEvent | Export-Csv' };
  if (type?.startsWith('System.Diagnostics.EventLogEntry')) {
    // System.Diagnostics.EventLogEntry#Application/MSExchange CmdletLogs/1
    const log = /^System\.Diagnostics\.EventLogEntry#([^/]{1,200})\//.exec(type)?.[1] ?? '';
    return { ...base, what: 'Get-EventLog | Export-Csv', typeLog: log };
  }
  if (!(has(ID_COLUMNS) && has(TIME_COLUMNS) && has(TEXT_COLUMNS))) return null;
  if (cells[0] === 'message' && cells[1] === 'id' && has(['providername'])) return { ...base, what: 'Get-WinEvent | Export-Csv' };
  if (cells[0] === 'eventid' && cells[1] === 'machinename') return { ...base, what: 'Get-EventLog | Export-Csv' };
  // Only the column names it knows are named: the others are evidence text.
  const known = cells.filter((c) => [...ID_COLUMNS, ...TIME_COLUMNS, ...TEXT_COLUMNS].includes(c));
  return { ...base, what: `Select-Object … | Export-Csv, columns ${known.join(', ')}` };
}

/**
 * A row longer than this is not read: inside a quote (an unterminated one) it stops the file, the rest being one
 * cell; outside quotes the row ends at the next line break, and reading goes on after it.
 */
const MAX_ROW_CHARS = 8 * 1024 * 1024;

export interface CsvRow {
  cells: string[];
  /** 1-based physical line the row starts on. */
  line: number;
  /** Byte offset of the row. */
  offset: number;
  /** A row over MAX_ROW_CHARS, not read (no cells): counted by readers that number rows. */
  dropped?: true;
}

/**
 * RFC 4180 rows over decoded blocks: `delimiter`, `"` quoting with `""`, line breaks (CRLF, LF or a lone CR) inside
 * quotes kept. Rows are handed over per block; a row longer than MAX_ROW_CHARS is a problem (see there). Lines are
 * exact; a byte offset after an invalid UTF-8 byte counts it as the 3 bytes of the U+FFFD it decodes to (the
 * decoder does not say how many bytes it replaced): offsets only place problems, rows are found again by line.
 */
export async function* csvRows(blocks: AsyncIterable<Buffer>, shape: Pick<EventCsvShape, 'encoding' | 'delimiter'>, problems: EvtxProblem[]): AsyncGenerator<CsvRow[]> {
  const decoder = new StringDecoder(shape.encoding);
  const delim = shape.delimiter.charCodeAt(0);
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  /** The previous block ended on a quote inside a quoted cell: `""` or the cell's end, decided by the next char. */
  let afterQuote = false;
  /** The previous block ended a row on CR: an LF first in this block belongs to it. */
  let afterCR = false;
  let rowChars = 0;
  /** The row is over MAX_ROW_CHARS outside quotes: its cells are dropped up to its end. */
  let dropping = false;
  let line = 1;
  /** The previous block's last character (a CR there and an LF first here are one line break). */
  let lastChar = 0;
  let rowLine = 1;
  let offset = 0;
  let rowOffset = 0;
  let first = true;
  for await (const block of blocks) {
    let text = decoder.write(block);
    if (first && text.length) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
        offset = rowOffset = shape.encoding === 'utf16le' ? 2 : 3;
      }
    }
    const bytesOf = (from: number, to: number) => (shape.encoding === 'utf16le' ? (to - from) * 2 : Buffer.byteLength(text.slice(from, to)));
    const rows: CsvRow[] = [];
    let start = 0; // start of the pending run of plain characters in `text`
    let counted = 0; // `text` up to here is in `offset`
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (afterCR) {
        afterCR = false;
        if (c === 10) {
          offset += bytesOf(counted, i + 1);
          counted = start = i + 1;
          rowOffset = offset;
          rowChars = -counted;
          continue;
        }
      }
      if (afterQuote) {
        afterQuote = false;
        if (c === 34) {
          cell += '"';
          start = i + 1;
          quoted = true;
          continue;
        }
      }
      if (quoted) {
        if (c === 34) {
          cell += text.slice(start, i);
          start = i + 1;
          if (i + 1 === text.length) {
            quoted = false;
            afterQuote = true;
          } else if (text.charCodeAt(i + 1) === 34) {
            cell += '"';
            i++;
            start = i + 1;
          } else quoted = false;
        } else if (c === 13 || (c === 10 && (i > 0 ? text.charCodeAt(i - 1) : lastChar) !== 13)) line++; // CRLF, LF, CR
        continue;
      }
      if (c === 34 && start === i && cell === '') {
        quoted = true;
        start = i + 1;
      } else if (c === delim) {
        cells.push(cell + text.slice(start, i));
        cell = '';
        start = i + 1;
      } else if (c === 10 || c === 13) {
        cells.push(cell + text.slice(start, i));
        cell = '';
        if (c === 13 && i + 1 === text.length) afterCR = true;
        else if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
        line++;
        if (dropping) {
          dropping = false;
          rows.push({ cells: [], line: rowLine, offset: rowOffset, dropped: true });
        } else if (!(cells.length === 1 && cells[0] === '')) rows.push({ cells, line: rowLine, offset: rowOffset });
        cells = [];
        offset += bytesOf(counted, i + 1);
        counted = start = i + 1;
        rowLine = line;
        rowOffset = offset;
        rowChars = -counted;
      }
    }
    cell += text.slice(start);
    if (text.length) lastChar = text.charCodeAt(text.length - 1);
    offset += bytesOf(counted, text.length);
    rowChars += text.length;
    if (rowChars > MAX_ROW_CHARS && !dropping) {
      if (quoted || afterQuote) {
        problems.push({ offset: rowOffset, reason: `CSV row at line ${rowLine} longer than 8 MiB (an unterminated quote?): the rest of the file is not read` });
        if (rows.length) yield rows;
        return;
      }
      problems.push({ offset: rowOffset, reason: `CSV row at line ${rowLine} longer than 8 MiB outside quotes: that row not read, the rows after it are` });
      dropping = true;
    }
    // A dropped row holds no more than one block's text. Of its pending cell only whether it has begun is kept: a
    // quote at the next block's start is then inside the cell, not a cell's opening quote.
    if (dropping) {
      cells = [];
      cell = cell.slice(-1);
    }
    if (rows.length) yield rows;
  }
  cell += decoder.end();
  if (quoted) problems.push({ offset: rowOffset, reason: `CSV row at line ${rowLine}: a quote is never closed, the rest of the file (to line ${line}) was read as one cell` });
  if (dropping) {
    yield [{ cells: [], line: rowLine, offset: rowOffset, dropped: true }];
    return;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell);
    yield [{ cells, line: rowLine, offset: rowOffset }];
  }
}

/** Excel's `sep=;` line, which names the delimiter. */
const SEP_LINE = /^"?sep=([,;\t|])"?\s*$/i;

/**
 * A row before the header that is no header: PowerShell's `#TYPE <type name>` line (Windows PowerShell 5.1 without
 * -NoTypeInformation) or Excel's `sep=` line (blank lines are no rows).
 */
const isPreamble = (r: CsvRow): boolean => r.cells[0].startsWith('#TYPE ') || (r.cells.length <= 2 && /^"?sep=/i.test(r.cells[0]) && (r.cells[1] ?? '') === '');

/** How events are dated: the day/month order (null: unknown) and the zone (null: unknown). */
export interface CsvTimes {
  order: DateOrder | null;
  toUtc: ZoneToUtc | null;
}

/** An event read from a CSV row: the model's fields plus the time as written (`localTime`) and the row number. */
export interface CsvEvent extends EvtxEvent {
  /** The time cell as written on the exporting machine ('' when the row has none). */
  localTime: string;
  /** The same, read as `YYYY-MM-DD hh:mm:ss` when the day/month order is known; null otherwise. */
  localIso: string | null;
  /** 1-based data row (the header not counted). */
  row: number;
  /** The row had no rendered message (exported where the provider's message file was missing). */
  noMessage: boolean;
  /** The time cell's own offset (`Z`, `+01:00`) when it has one: the time was placed by it, not by the zone given. */
  cellOffset: string | null;
  /** The local time falls in the hour repeated when summer time ends: read as standard time, may be an hour off. */
  repeatedHour: boolean;
}

/** Column positions of one file's header. */
interface Columns {
  id: number;
  instanceId: boolean;
  time: number;
  provider: number;
  channel: number;
  level: number;
  message: number;
  computer: number;
  record: number;
  user: number;
}

/**
 * Event Viewer's columns by position (its header may be in any language): level or keywords, time, source, id. A
 * language not in EVENT_VIEWER reads its first column as levels (names it does not know give none).
 */
function eventViewerColumns(header: string[]): Columns {
  const level = EVENT_VIEWER.some((h) => h.first[1] === header[0]?.trim().toLowerCase()) ? -1 : 0;
  return { id: 3, instanceId: false, time: 1, provider: 2, channel: -1, level, message: -1, computer: -1, record: -1, user: -1 };
}

function columnsOf(header: string[], eventViewer = false): Columns {
  if (eventViewer) return eventViewerColumns(header);
  const cells = header.map((c) => c.trim().toLowerCase());
  const at = (names: string[]) => {
    for (const n of names) {
      const i = cells.indexOf(n);
      if (i >= 0) return i;
    }
    return -1;
  };
  const id = at(ID_COLUMNS);
  return {
    id,
    instanceId: cells[id] === 'instanceid',
    time: at(TIME_COLUMNS),
    provider: at(PROVIDER_COLUMNS),
    channel: at(CHANNEL_COLUMNS),
    level: at(LEVEL_COLUMNS),
    message: at(MESSAGE_COLUMNS),
    computer: at(COMPUTER_COLUMNS),
    record: at(RECORD_COLUMNS),
    user: at(USER_COLUMNS),
  };
}

function levelOf(s: string): number | null {
  const v = s.trim();
  if (/^\d{1,2}$/.test(v)) return Number(v);
  return LEVELS.get(v.toLowerCase()) ?? null;
}

function eventIdOf(s: string, instanceId: boolean): number | null {
  const v = s.trim();
  if (!/^\d{1,10}$/.test(v)) return null;
  // InstanceId carries the qualifiers in its high bits; the event id is the low 16 (as Event Viewer shows it).
  return instanceId ? Number(v) % 65536 : Number(v);
}

/** The data rows as events (the #TYPE line and the header are not events), dated by `times`. */
export async function* readCsvEvents(blocks: AsyncIterable<Buffer>, shape: EventCsvShape, times: CsvTimes, problems: EvtxProblem[]): AsyncGenerator<CsvEvent[]> {
  let cols: Columns | null = null;
  let width = 0;
  let row = 0;
  let short = 0;
  let firstShort = 0;
  for await (const rows of csvRows(blocks, shape, problems)) {
    const batch: CsvEvent[] = [];
    for (const r of rows) {
      if (r.dropped) {
        if (cols !== null) row++;
        continue;
      }
      if (cols === null) {
        if (isPreamble(r)) continue;
        cols = columnsOf(r.cells, shape.eventViewer);
        width = r.cells.length;
        continue;
      }
      row++;
      if (r.cells.length < Math.min(width, 3)) {
        short++;
        firstShort ||= r.line;
        continue;
      }
      batch.push(toCsvEvent(r, row, cols, width, shape, times));
    }
    if (batch.length) yield batch;
  }
  if (short) problems.push({ offset: 0, reason: `${short} CSV row(s) with too few columns not read, first at line ${firstShort}` });
}

function toCsvEvent(r: CsvRow, row: number, cols: Columns, width: number, shape: EventCsvShape, times: CsvTimes): CsvEvent {
  const cell = (i: number) => (i >= 0 && i < r.cells.length ? r.cells[i] : '');
  // Event Viewer: everything after the header's columns is the message (an unquoted one may hold the delimiter).
  const message = shape.eventViewer ? r.cells.slice(width).join(shape.delimiter) : cell(cols.message);
  const eventId = eventIdOf(cell(cols.id), cols.instanceId);
  const provider = cell(cols.provider).trim();
  const channel = cell(cols.channel).trim() || shape.typeLog;
  const computer = cell(cols.computer).trim();
  const level = levelOf(cell(cols.level));
  const recordText = cell(cols.record).trim();
  const record = /^\d{1,15}$/.test(recordText) ? Number(recordText) : 0;
  const localTime = cell(cols.time).trim();
  const stamp = parseStamp(localTime);
  const time = stamp ? stampToUtc(stamp, times.order, times.toUtc) : null;
  const system = systemFields({ EventID: eventId, Provider: provider, Channel: channel, Computer: computer, Level: level, EventRecordID: record || null, UserID: cell(cols.user).trim(), TimeCreated: time });
  const data = message ? dataFromMessage(provider, eventId, message) : null;
  return {
    record,
    time,
    eventId,
    level,
    provider,
    channel,
    computer,
    data: data ?? {},
    system,
    ...(message ? { message } : {}),
    xml: [],
    offset: r.offset,
    line: r.line,
    localTime,
    localIso: stamp ? localText(stamp, times.order) : null,
    row,
    noMessage: message.trim() === '',
    cellOffset: stamp?.offsetMinutes == null ? null : offsetText(stamp.offsetMinutes),
    repeatedHour: time !== null && stamp !== null && inRepeatedHour(stamp, times.order, times.toUtc),
  };
}

function offsetText(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const a = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/**
 * First pass: the time cells' day/month evidence, over the whole file (a row far down may contradict the first ones:
 * exports of two servers with different cultures pasted together) unless `stop` (the file's time budget) says to
 * end. Only the time column is looked at.
 */
export async function voteDateOrder(blocks: AsyncIterable<Buffer>, shape: EventCsvShape, votes: DateOrderVotes, stop: () => boolean = () => false): Promise<void> {
  let time = -2;
  for await (const rows of csvRows(blocks, shape, [])) {
    for (const r of rows) {
      if (r.dropped) continue;
      if (time === -2) {
        if (isPreamble(r)) continue;
        time = columnsOf(r.cells, shape.eventViewer).time;
        continue;
      }
      const s = time >= 0 && time < r.cells.length ? parseStamp(r.cells[time]) : null;
      if (s) votes.add(s);
    }
    if (stop()) return;
  }
}
