import type { LogRecord } from '../model.js';

/** Thrown by parsers for malformed input; the engine reports it with the file and line and goes on. */
export class ParseError extends Error {
  override name = 'ParseError';
}

/** Parses the lines of one text log file, in order. Holds per-file state (the current header). */
export interface LineParser {
  /** A line starting with `#` (a W3C / Exchange directive, or a comment). */
  directive(line: string, lineNo: number): void;
  /** A data line (no trailing CR/LF). Returns null for lines that are not records (a repeated header line). */
  parse(line: string, lineNo: number): LogRecord | null;
  /**
   * A line that contains one of the format's `factNeedles` but that no rule wanted parsed: note facts from it
   * cheaply (no record is built).
   */
  observe?(line: string, lineNo: number): void;
  /**
   * `observe` for one field (formats with a `fieldSeparator`): the text scanner cuts `observedField` out of the line
   * and decodes only it, when the line's field count matches the layout (else `observe` gets the whole line). Must
   * note exactly what `observe` notes from that line.
   */
  readonly observedField?: string;
  observeField?(value: string, lineNo: number): void;
  /** The current field layout (names in line order) of a format with a `fieldSeparator`. */
  fieldNames?(): readonly string[];
  /**
   * True when a field layout of this file does not log the request's query string (IIS `#Fields` without
   * cs-uri-query, an admin's privacy trim): the attacks told by their query cannot be seen in it.
   */
  queryUnlogged?(): boolean;
  /**
   * Build numbers and host names this file's directives revealed (e.g. `#Version`), for the host facts. `time`:
   * when the fact held (default: the file's first record time).
   */
  facts?(): Array<{ kind: 'build' | 'hostname' | 'install'; value: string; origin: string; line: number; time?: string | null }>;
  /** What the responder must know about how this file was read (times in a zone given or not): listed in skipped. */
  notes?(): string[];
}

/** Scan options a parser reads (a subset of the engine's ScanOptions, by the same names). */
export interface ParserOptions {
  /** --iis-tz: the server's time zone, for IIS logs in IIS's own format (local times without a zone). */
  iisZone?: string;
}

/**
 * A file a format recognised but does not read: why, and whether evidence goes unread (a log in a format exhunt
 * cannot parse) or the file is left out on purpose (HTTPERR, FTP: not web logs).
 */
export interface FormatSkip {
  reason: string;
  unread: boolean;
}

/** Which of several formats a file is (its id), from the head and the relative path; null for none of them. */
export type FormatFamily = (head: string, rel: string) => string | null;

/** A line-oriented text log (Exchange CSV logs, IIS W3C ...). The engine's text scanner drives it. */
export interface TextLogFormat {
  /** Record format id (`LogRecord.format`), e.g. `httpproxy`. */
  id: string;
  /**
   * Decides from the first bytes (decoded as UTF-8, BOM stripped) and the relative path whether this format
   * reads the file. A FormatSkip means "recognised, but not read": the reason is reported.
   */
  detect(head: string, rel: string): boolean | FormatSkip;
  /**
   * One classification several formats share (Exchange's CSV logs tell each other apart from one header): `detect`
   * is `family(head, rel) === id`, and a scanner may ask the family once per file for all of its formats.
   */
  family?: FormatFamily;
  /** Coverage bucket for a file, e.g. `HttpProxy/Ecp`, `ECP Server`, `IIS W3SVC1`. */
  coverageSource(rel: string): string;
  createParser(rel: string, options?: ParserOptions): LineParser;
  /**
   * For a format whose layout is set by a header row that is not a `#` directive (a CSV export's first line): that
   * row, from the file's head. A byte range after the first hands it to its parser's `directive`.
   */
  headerLine?(head: string): string | null;
  /** Literals (any case) of lines that carry facts, e.g. `/owa/auth/1` for the build in OWA resource paths. */
  factNeedles?: readonly string[];
  /**
   * The byte between fields when no field can contain it (IIS W3C: a space; not CSV, whose quoted fields may hold
   * commas): lets the engine place a needle in its field before decoding the line (`RecordRule.needleFields`).
   */
  fieldSeparator?: number;
}
