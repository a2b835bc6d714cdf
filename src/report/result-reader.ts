// Reads a scan result (`exhunt scan --json`) one host at a time, so `exhunt report` never holds a result file as one
// string nor its parsed tree: a result file can exceed V8's largest string (~512 MB) or the heap, while one host's
// JSON is bounded (floods collapse into counted groups). The bytes are split on the structure of the top-level object
// (strings, escapes and nesting tracked byte by byte) and each `hosts` element and every other member is parsed with
// JSON.parse, which also validates it. Hand-written: a streaming JSON library tokenises every value in JavaScript
// (@streamparser/json 0.0.26: 3.0 s for a 39 MB result file, against 1.2 s for this split plus the native parser).
import { createReadStream } from 'node:fs';
import type { HostResult } from '../model.js';

export class ResultFileError extends Error {
  override name = 'ResultFileError';
}

const enum S {
  BeforeObject,
  BeforeKey,
  InKey,
  AfterKey,
  BeforeValue,
  Value,
  AfterValue,
  BeforeHost,
  Host,
  AfterHost,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** What the splitter reports as the value of `hosts` when it is an array (its elements go to the host callback). */
const HOSTS_ARRAY: unique symbol = Symbol('hosts array');

/**
 * Splits one JSON object fed in chunks: members are handed to `member` parsed, the elements of `hosts` (when it is
 * an array) to `host` one by one. Memory: the largest single member or host.
 */
class ResultSplitter {
  private state = S.BeforeObject;
  private offset = 0;
  private key = '';
  private parts: Buffer[] = [];
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private members = 0;
  /** `hosts` was an array (possibly empty). */
  sawHosts = false;

  constructor(
    private readonly member: (key: string, value: unknown) => void,
    private readonly host: (value: unknown) => void,
  ) {}

  private fail(what: string, at: number): never {
    throw new SyntaxError(`${what} at byte ${at}`);
  }

  private captured(chunk: Buffer, end: number): string {
    const tail = chunk.subarray(Math.max(this.start, 0), end);
    const text = this.parts.length ? Buffer.concat([...this.parts, tail]).toString('utf8') : tail.toString('utf8');
    this.parts = [];
    this.start = -1;
    return text;
  }

  private begin(i: number): void {
    this.start = i;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  /**
   * Advances a value being captured over byte `b` at `i`: returns the end (exclusive) when the value ends with this
   * byte (a string, object or array closed), `i` when it ended just before (a number or literal), else -1.
   */
  private scanValue(b: number, i: number): number {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (b === BACKSLASH) this.escaped = true;
      else if (b === QUOTE) {
        this.inString = false;
        if (this.depth === 0) return i + 1;
      }
      return -1;
    }
    if (b === QUOTE) this.inString = true;
    else if (b === 0x7b || b === 0x5b) this.depth++;
    else if (b === 0x7d || b === 0x5d) {
      if (this.depth === 0) return i;
      if (--this.depth === 0) return i + 1;
    } else if (this.depth === 0 && (b === 0x2c || isSpace(b))) return i;
    return -1;
  }

  feed(chunk: Buffer): void {
    let i = 0;
    if (this.offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3; // UTF-8 BOM
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case S.BeforeObject:
          if (b === 0x7b) this.state = S.BeforeKey;
          else if (!isSpace(b)) this.fail('not a JSON object', this.offset + i);
          break;
        case S.BeforeKey:
          if (b === QUOTE) {
            this.begin(i);
            this.inString = true;
            this.state = S.InKey;
          } else if (b === 0x7d && this.members === 0) this.state = S.Done;
          else if (!isSpace(b)) this.fail('expected a member name', this.offset + i);
          break;
        case S.InKey: {
          const end = this.scanValue(b, i);
          if (end >= 0) {
            this.key = JSON.parse(this.captured(chunk, end)) as string;
            this.state = S.AfterKey;
          }
          break;
        }
        case S.AfterKey:
          if (b === 0x3a) this.state = S.BeforeValue;
          else if (!isSpace(b)) this.fail("expected ':'", this.offset + i);
          break;
        case S.BeforeValue:
          if (isSpace(b)) break;
          if (this.key === 'hosts' && b === 0x5b) {
            this.member('hosts', HOSTS_ARRAY); // told like any member, so a second `hosts` is caught as a repeat
            this.sawHosts = true;
            this.state = S.BeforeHost;
            break;
          }
          this.begin(i);
          this.state = S.Value;
          i--; // this byte is the value's first
          break;
        case S.Value: {
          const end = this.scanValue(b, i);
          if (end < 0) break;
          this.member(this.key, JSON.parse(this.captured(chunk, end)));
          this.members++;
          this.state = S.AfterValue;
          if (end === i) i--; // the delimiter is read again as what follows the value
          break;
        }
        case S.AfterValue:
          if (b === 0x2c) this.state = S.BeforeKey;
          else if (b === 0x7d) this.state = S.Done;
          else if (!isSpace(b)) this.fail("expected ',' or '}'", this.offset + i);
          break;
        case S.BeforeHost:
          if (isSpace(b)) break;
          if (b === 0x5d) {
            this.members++;
            this.state = S.AfterValue;
            break;
          }
          this.begin(i);
          this.state = S.Host;
          i--;
          break;
        case S.Host: {
          const end = this.scanValue(b, i);
          if (end < 0) break;
          this.host(JSON.parse(this.captured(chunk, end)));
          this.state = S.AfterHost;
          if (end === i) i--;
          break;
        }
        case S.AfterHost:
          if (b === 0x2c) this.state = S.BeforeHost;
          else if (b === 0x5d) {
            this.members++;
            this.state = S.AfterValue;
          } else if (!isSpace(b)) this.fail("expected ',' or ']' in hosts", this.offset + i);
          break;
        case S.Done:
          if (!isSpace(b)) this.fail('data after the end of the object', this.offset + i);
          break;
      }
    }
    if (this.start >= 0) {
      this.parts.push(Buffer.from(chunk.subarray(this.start)));
      this.start = 0;
    }
    this.offset += chunk.length;
  }

  end(): void {
    if (this.state !== S.Done) this.fail('unexpected end of the file', this.offset);
  }
}

const CHUNK = 1 << 20;

/**
 * Reads a result file: `onHost` gets each host as it is parsed; returns the other top-level members (schema, tool).
 * Throws ResultFileError naming the file when it cannot be read, is not JSON, or is not a scan result.
 */
export async function readResultFile(file: string, onHost: (h: HostResult) => void): Promise<Record<string, unknown>> {
  // No prototype: a member named `__proto__` is a plain key, not a way to supply `tool` or `schema`.
  const head = Object.create(null) as Record<string, unknown>;
  const notResult = () => new ResultFileError(`${file}: not an exhunt scan result (schema exhunt.scan/1; write one with exhunt scan --json FILE)`);
  let hosts = 0;
  const splitter = new ResultSplitter(
    (key, value) => {
      if (Object.hasOwn(head, key)) throw new ResultFileError(`${file}: a top-level member appears twice: not a result exhunt wrote`);
      head[key] = value;
      // A wrong schema ends the read at once rather than after gigabytes of something else.
      if (key === 'schema' && value !== 'exhunt.scan/1') throw notResult();
      if (key === 'hosts' && value !== HOSTS_ARRAY) throw notResult(); // present but not an array
    },
    (h) => {
      hosts++;
      // A host that is not shaped as exhunt writes it is the file's fault, not an unreadable file.
      try {
        onHost(h as HostResult);
      } catch (err) {
        throw new ResultFileError(`${file}: host ${hosts} is not a host result (${err instanceof Error ? err.message : String(err)})`);
      }
    },
  );
  let stream;
  try {
    stream = createReadStream(file, { highWaterMark: CHUNK });
    for await (const chunk of stream) splitter.feed(chunk as Buffer);
    splitter.end();
  } catch (err) {
    stream?.destroy();
    if (err instanceof ResultFileError) throw err;
    if (err instanceof SyntaxError) throw new ResultFileError(`${file}: not JSON (${err.message})`);
    throw new ResultFileError(`${file}: not readable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (head.schema !== 'exhunt.scan/1' || !head.tool || !splitter.sawHosts) throw notResult();
  return head;
}
