// Text logs as they really arrive: UTF-8 with or without a BOM, sometimes UTF-16 (a log re-saved by an admin's
// editor, or passed through Windows PowerShell 5's `Out-File` / `>`, which write UTF-16LE with a BOM), a stray NUL
// (a crash pads with NULs), and any line ending (a lone CR from an old Mac tool, or put there to hide a line from
// readers that split on LF only). Everything is handed on as UTF-8 bytes with LF line ends, so the byte-level line
// scanner and its literal prefilter stay as they are.

import { TextDecoder } from 'node:util';

export type TextEncoding = 'utf8' | 'utf16le' | 'utf16be';

/**
 * Whether `head` starts with `char` after a BOM and white space. Judged from the first byte that is not ASCII white
 * space when it is ASCII (no decoding: a sweep asks this of every file), else from the first KiB decoded.
 */
export function startsWithChar(head: Buffer, char: string, enc: 'utf8' | 'utf16le' = 'utf8'): boolean {
  if (enc === 'utf8') {
    for (const b of head) {
      if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) continue;
      if (b < 0x80) return b === char.charCodeAt(0);
      break;
    }
  }
  return head.toString(enc, 0, Math.min(head.length, 1024)).replace(/^\uFEFF/, '').trimStart().startsWith(char);
}

/** Bytes of a UTF-8 BOM at the start of `buf`: 3 or 0. */
export function utf8BomLength(buf: Uint8Array): number {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
}

/**
 * A whole small text file decoded by its BOM: UTF-16LE/BE (PowerShell 5, `reg export`, IIS config saved as
 * Unicode) or UTF-8 with or without a BOM.
 */
export function decodeByBom(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff) return Buffer.from(buf.subarray(2)).swap16().toString('utf16le');
  return buf.toString('utf8').replace(/^\uFEFF/, '');
}

/** How many head bytes decide the encoding and whether a file is binary. */
const SNIFF_BYTES = 4096;

/**
 * The encoding of a text file from its first bytes: a BOM, or for BOM-less UTF-16 the pattern of ASCII text in it
 * (nearly every other byte NUL, the bytes between them not).
 */
export function sniffEncoding(head: Uint8Array): TextEncoding {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf16be';
  const pairs = Math.floor(Math.min(head.length, SNIFF_BYTES) / 2);
  if (pairs < 8) return 'utf8';
  // Bytes first: text has no NUL (one native search; the count below costs every file of a sweep ~2 µs).
  if (Buffer.from(head.buffer, head.byteOffset, 2 * pairs).indexOf(0) === -1) return 'utf8';
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs; i++) {
    if (head[2 * i] === 0) evenNul++;
    if (head[2 * i + 1] === 0) oddNul++;
  }
  if (oddNul >= pairs * 0.9 && evenNul <= pairs * 0.05) return 'utf16le';
  if (evenNul >= pairs * 0.9 && oddNul <= pairs * 0.05) return 'utf16be';
  return 'utf8';
}

/** A NUL run at least this long after a line end is a crashed log's padding. */
const NUL_PADDING = 16;
/** A crash zeroes whole sectors, wherever the last write stopped (mid-line too): a run from a sector's start. */
const SECTOR = 512;

/**
 * Binary data, not a text log with a stray NUL: many NULs (a quarter of the first 4 KB) or many other control bytes
 * (a tenth; random or compressed bytes have about 12 %). Text with a NUL hole from a crash is still text.
 */
export function looksBinary(whole: Uint8Array): { nul: number; control: number; of: number } | null {
  // A log created just before a crash starts with the padding (a restart writes its header after it): judged from
  // the first byte past it; a head that is all NULs shows no text at all.
  let start = 0;
  while (start < whole.length && whole[start] === 0) start++;
  if (start === whole.length && start > 0) return { nul: Math.min(start, SNIFF_BYTES), control: 0, of: Math.min(start, SNIFF_BYTES) };
  const base = start >= NUL_PADDING ? start : 0;
  const head = whole.subarray(base);
  const n = Math.min(head.length, SNIFF_BYTES);
  let nul = 0;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    // A log cut off by a crash or power loss ends (or goes on after a restart) past a block of NULs the file system
    // had allocated: a run of them right after a line end, or from a sector's start on, is padding, not binary
    // content (a binary file still shows its control bytes).
    if (b === 0 && i > 0) {
      const afterLine = head[i - 1] === 10;
      const aligned = (base + i) % SECTOR === 0;
      if (afterLine || aligned) {
        let j = i;
        while (j < n && head[j] === 0) j++;
        if (j - i >= (afterLine ? NUL_PADDING : SECTOR) || (aligned && j === n)) {
          i = j - 1;
          continue;
        }
      }
    }
    if (b === 0) nul++;
    else if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12) || b === 0x7f) control++;
  }
  return nul * 4 > n || control * 10 > n ? { nul, control, of: n } : null;
}

function utf16Decoder(enc: 'utf16le' | 'utf16be'): TextDecoder {
  // Strips the BOM; unpaired surrogates become U+FFFD.
  return new TextDecoder(enc === 'utf16le' ? 'utf-16le' : 'utf-16be');
}

/** A file's head as text for format detection: decoded, BOM and NULs dropped, every line end a LF. */
export function headText(head: Buffer, enc: TextEncoding = sniffEncoding(head)): string {
  let text = enc === 'utf8' ? head.toString('utf8') : utf16Decoder(enc).decode(head.subarray(0, head.length & ~1));
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Every file's head passes through here: a replace that finds nothing still costs a regex scan, includes a memchr.
  if (text.includes('\u0000')) text = text.replace(/\u0000/g, '');
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/**
 * A file's chunks as UTF-8 bytes whose only line end is LF: UTF-16 is transcoded (`enc`, or sniffed from the first
 * chunk); a lone CR becomes a LF in place (one byte for one: offsets and line counts stay exact); CRLF is left.
 * Chunks may be reused buffers (evidence/file.ts readChunks): each is done with before the next is read.
 */
export async function* utf8Lines(chunks: AsyncIterable<Buffer>, enc?: TextEncoding): AsyncGenerator<Buffer> {
  let decoder: TextDecoder | null = null;
  let pendingCr = false;
  for await (const raw of chunks) {
    if (raw.length === 0) continue;
    if (enc === undefined) enc = sniffEncoding(raw);
    if (enc !== 'utf8') decoder ??= utf16Decoder(enc);
    const chunk = decoder ? Buffer.from(decoder.decode(raw, { stream: true }), 'utf8') : raw;
    if (chunk.length === 0) continue;
    if (pendingCr) {
      yield Buffer.of(chunk[0] === 10 ? 13 : 10);
      pendingCr = false;
    }
    yield loneCrToLf(chunk, (pendingCr = chunk[chunk.length - 1] === 13));
  }
  if (decoder) {
    const rest = Buffer.from(decoder.decode(), 'utf8');
    if (rest.length) {
      if (pendingCr) yield Buffer.of(rest[0] === 10 ? 13 : 10);
      pendingCr = rest[rest.length - 1] === 13;
      yield loneCrToLf(rest, pendingCr);
    }
  }
  if (pendingCr) yield Buffer.of(10);
}

/** Rewrites lone CRs in place; a CR in the last byte is held back (`holdLast`: the next chunk decides). */
function loneCrToLf(chunk: Buffer, holdLast: boolean): Buffer {
  const end = holdLast ? chunk.length - 1 : chunk.length;
  for (let i = chunk.indexOf(13); i !== -1 && i < end; i = chunk.indexOf(13, i + 1)) {
    if (i + 1 >= chunk.length || chunk[i + 1] !== 10) chunk[i] = 10;
  }
  return holdLast ? chunk.subarray(0, end) : chunk;
}

/**
 * A line without the NUL padding a crash left before it: the padding ends in no line break, so the first line
 * written after the restart (a record, or a directive) starts with it.
 */
export function withoutLeadingNuls(line: string): string {
  if (line.charCodeAt(0) !== 0) return line;
  let i = 1;
  while (i < line.length && line.charCodeAt(i) === 0) i++;
  return line.slice(i);
}
