// Reports written host by host while a scan runs: each host's result goes to every output as soon as it is judged
// and is then dropped; only a digest per host (fleet table, HTML header, verdict lines, exit code) is kept. Outputs
// whose head depends on the end of the scan (JSON: tool.finished; HTML: title and fleet table)
// are spooled to a temporary file and copied after that head. No output is ever one string in memory.
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResult, ToolInfo } from '../model.js';
import { csvBases, csvHostFiles, findingsCsvHeader, findingsCsvRows } from './csv.js';
import { hostHtml, hostTableData, htmlParts } from './html.js';
import { ndjsonHostLines } from './ndjson.js';
import { hostVerdictLines } from './ndjson-hosts.js';
import { renderStix, stixHost, type StixHost } from './stix.js';
import { hostDigest, type HostDigest } from './summary.js';
import { timesketchLines } from './timesketch.js';

/** The value of an output option that means stdout. */
export const STDOUT = '-';
const CHUNK = 1 << 20;

/** Writes to stdout and waits for it to drain, so a large report piped to another tool is not cut short. */
export function writeStdout(text: string | Buffer): Promise<void> {
  if (text.length === 0 || process.stdout.write(text)) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

/** A file or stdout, written in order; file writes are synchronous (bounded memory, no queue). */
export class Out {
  private readonly fd: number | null;
  private constructor(fd: number | null) {
    this.fd = fd;
  }
  static open(target: string): Out {
    return new Out(target === STDOUT ? null : openSync(target, 'w'));
  }
  async write(data: string | Buffer): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (this.fd === null) return writeStdout(buf);
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }
}

/** Writes an output given as pieces (a file, or `-` for stdout), gathered into writes of about 1 MiB. */
export async function writePieces(target: string, pieces: Iterable<string>): Promise<void> {
  const out = Out.open(target);
  try {
    let batch = '';
    for (const p of pieces) {
      batch += p;
      if (batch.length >= CHUNK) {
        await out.write(batch);
        batch = '';
      }
    }
    await out.write(batch);
  } finally {
    out.close();
  }
}

/** Text written now to a temporary file, copied to an output later. */
export class Spool {
  private readonly fd: number;
  /** The spool's folder, when it could not be removed at once (Windows keeps an open file's name). */
  private readonly dir: string | null;
  private size = 0;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'exhunt-spool-'));
    const path = join(dir, 'spool');
    this.fd = openSync(path, 'w+');
    // Unlinked at once where the platform allows (the open descriptor keeps the data): a scan that is killed
    // (Ctrl-C, SIGKILL, out of memory) leaves nothing in the temp folder.
    try {
      unlinkSync(path);
      rmdirSync(dir);
      this.dir = null;
    } catch {
      this.dir = dir;
    }
  }
  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off, this.size + off);
    this.size += buf.length;
  }

  async copyTo(out: Out): Promise<void> {
    for (let pos = 0; pos < this.size; ) {
      // A fresh buffer per write: stdout queues a write it accepts by reference, and a pipe that is full still
      // accepts one under its high-water mark, so a reused buffer was overwritten before it was sent.
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.size - pos));
      const n = readSync(this.fd, buf, 0, buf.length, pos);
      if (n === 0) throw new Error('report spool ended early');
      await out.write(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
    }
  }

  private open = true;

  dispose(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where each report goes (file paths, or `-` for stdout; CSV: a folder). */
export interface StreamTargets {
  json?: string;
  ndjson?: string;
  /** With ndjson: one verdict line per host after the findings. */
  ndjsonHosts?: boolean;
  csv?: string;
  csvBom?: boolean;
  html?: string;
  timesketch?: string;
  stix?: string;
}

/** Indents a JSON.stringify(…, null, 2) text by `pad` (strings in JSON hold no raw newline). */
export function indent(json: string, pad: string): string {
  return json.replace(/\n/g, `\n${pad}`);
}

/**
 * Every report of a scan, fed one host at a time (`host`), finished with the tool info and the labels (`finish`).
 * The bytes equal those of the in-memory renderers (renderJson, renderHtml, findingsCsv/writeCsv, renderTimesketch,
 * renderStix, renderNdjson but for NDJSON's `event.created`, which is each host's end here).
 */
export class ReportStream {
  readonly digests: HostDigest[] = [];
  private readonly json: Spool | null;
  private readonly html: { sections: Spool; data: Spool } | null;
  private readonly ndjson: Out | null;
  private readonly timesketch: Out | null;
  private readonly csv: { dir: string | null; all: Out; base: ReturnType<typeof csvBases> } | null;
  private readonly stix: StixHost[] | null;
  private hosts = 0;

  constructor(private readonly targets: StreamTargets) {
    this.json = targets.json ? new Spool() : null;
    this.html = targets.html ? { sections: new Spool(), data: new Spool() } : null;
    this.ndjson = targets.ndjson ? Out.open(targets.ndjson) : null;
    this.timesketch = targets.timesketch ? Out.open(targets.timesketch) : null;
    if (targets.csv) {
      const dir = targets.csv === STDOUT ? null : targets.csv;
      if (dir) mkdirSync(dir, { recursive: true });
      this.csv = { dir, all: Out.open(dir ? join(dir, 'exhunt-findings.csv') : STDOUT), base: csvBases() };
    } else this.csv = null;
    this.stix = targets.stix ? [] : null;
  }

  /** Opens the streamed outputs' heads; call once before the first host. */
  async start(): Promise<void> {
    await this.csv?.all.write(findingsCsvHeader({ bom: this.targets.csvBom === true }));
  }

  /** Writes one host (labelled: engine/scan.ts scanEach) to every output. */
  async host(h: HostResult, since: string): Promise<void> {
    const i = this.hosts++;
    if (this.json) this.json.write(`${i ? ',' : ''}\n    ${indent(JSON.stringify(h, null, 2), '    ')}`);
    if (this.html) {
      this.html.sections.write(`${i ? '\n' : ''}${hostHtml(h, i, since)}`);
      this.html.data.write(`${i ? ',' : ''}${hostTableData(h)}`);
    }
    if (this.ndjson) await this.ndjson.write(ndjsonHostLines(h, new Date().toISOString()));
    if (this.timesketch) for (const l of timesketchLines(h)) await this.timesketch.write(`${l}\n`);
    if (this.csv) {
      const opts = { bom: this.targets.csvBom === true };
      if (this.csv.dir) for (const [name, text] of csvHostFiles(h, this.csv.base(h), opts)) writeFileSync(join(this.csv.dir, name), text, 'utf8');
      await this.csv.all.write(findingsCsvRows(h));
    }
    this.stix?.push(stixHost(h));
    this.digests.push(hostDigest(h));
  }

  /** Writes what needed the end of the scan and closes every output. */
  async finish(tool: ToolInfo): Promise<void> {
    if (this.json && this.targets.json) {
      const out = Out.open(this.targets.json);
      const head = JSON.stringify({ schema: 'exhunt.scan/1', tool, hosts: [] }, null, 2);
      await out.write(head.slice(0, -'[]\n}'.length));
      if (this.hosts === 0) await out.write('[]');
      else {
        await out.write('[');
        await this.json.copyTo(out);
        await out.write('\n  ]');
      }
      await out.write('\n}\n');
      out.close();
    }
    if (this.html && this.targets.html) {
      const parts = htmlParts(tool, this.digests);
      const out = Out.open(this.targets.html);
      await out.write(parts.top);
      if (this.hosts === 0) await out.write(parts.noHosts);
      else await this.html.sections.copyTo(out);
      await out.write(parts.middle);
      await this.html.data.copyTo(out);
      await out.write(parts.bottom);
      out.close();
    }
    if (this.ndjson) {
      if (this.targets.ndjsonHosts) await this.ndjson.write(hostVerdictLines(tool, this.digests));
      this.ndjson.close();
    }
    this.timesketch?.close();
    this.csv?.all.close();
    if (this.stix && this.targets.stix) {
      const out = Out.open(this.targets.stix);
      await out.write(renderStix({ tool, hosts: this.stix }));
      out.close();
    }
    this.dispose();
  }

  /** Removes the temporary spools (also after a failed scan). */
  dispose(): void {
    this.json?.dispose();
    this.html?.sections.dispose();
    this.html?.data.dispose();
  }
}
