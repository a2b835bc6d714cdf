import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { EvidenceFile } from '../../evidence/file.js';
import { readHead } from '../../evidence/file.js';
import { detectEventLog, readEventLog, renderXml, type EvtxEvent, type EvtxProblem } from '../../parsers/evtx/index.js';
import { UsageError } from '../errors.js';

export function registerEvtx(program: Command): void {
  const evtx = program.command('evtx').description('read Windows event logs (.evtx, or XML exports) with exhunt’s own parser');
  evtx
    .command('dump')
    .description('print every record as one JSON object per line (or as XML with --xml)')
    .argument('<FILE...>', '.evtx files or XML event exports')
    .option('--xml', 'print the rendered event XML instead of JSON')
    .action(async (files: string[], opts: { xml?: boolean }) => {
      let unopened = 0;
      for (const path of files) if (!(await dumpFile(path, opts.xml === true))) unopened++;
      if (unopened) throw new UsageError(`${unopened} of ${files.length} file(s) could not be read`);
    });
}

/** Dumps one file; returns false when it could not be opened or is not an event log. Damage is reported, not fatal. */
async function dumpFile(path: string, xml: boolean): Promise<boolean> {
  const file = await openFile(path);
  if (!file) return false;
  const format = detectEventLog(await readHead(file, 8192));
  if (!format) {
    warn(`${path}: not an EVTX file or XML event export`);
    return false;
  }
  const problems: EvtxProblem[] = [];
  let reported = 0;
  const reportNew = (): void => {
    for (; reported < problems.length; reported++) warn(problemLine(path, problems[reported]));
  };
  for await (const batch of readEventLog(file, format, problems)) {
    await write(batch.map((e) => (xml ? renderXml(e.xml) : JSON.stringify(jsonRecord(e)) + '\n')).join(''));
    reportNew();
  }
  reportNew();
  return true;
}

async function openFile(path: string): Promise<EvidenceFile | null> {
  try {
    const st = await stat(path);
    if (st.isFile()) return { kind: 'fs', abs: path, rel: basename(path), size: st.size, mtimeMs: st.mtimeMs };
    warn(`${path}: not a regular file`);
  } catch (err) {
    warn(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return null;
}

/** The JSON Lines shape of `exhunt evtx dump`. */
function jsonRecord(e: EvtxEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    record: e.record,
    time: e.time,
    eventId: e.eventId,
    level: e.level,
    provider: e.provider,
    channel: e.channel,
    computer: e.computer,
    data: e.data,
  };
  if (e.message !== undefined) out.message = e.message;
  return out;
}

function problemLine(path: string, p: EvtxProblem): string {
  return `${path}: offset ${p.offset} (0x${p.offset.toString(16)}): ${p.reason}`;
}

function warn(line: string): void {
  process.stderr.write(`exhunt: ${line.replace(/[\r\n]+/g, ' ')}\n`);
}

function write(s: string): Promise<void> {
  if (s === '' || process.stdout.write(s)) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}
