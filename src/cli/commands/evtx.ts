import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { examples } from '../help.js';
import type { EvidenceFile } from '../../evidence/file.js';
import { readHead } from '../../evidence/file.js';
import { detectEventLog, readEventLog, renderXml, type EvtxEvent, type EvtxProblem } from '../../parsers/evtx/index.js';
import { ERROR_PREFIX, UsageError } from '../errors.js';
import { writeStdout } from '../output.js';

export function registerEvtx(program: Command): void {
  const evtx = program.command('evtx').description('read Windows event logs (.evtx, XML exports, JSON Lines, EvtxECmd CSV/JSON) with exhunt’s own parser');
  evtx
    .command('dump')
    .addHelpText('after', examples([
      'exhunt evtx dump MSExchange-Management.evtx > events.jsonl',
      'exhunt evtx dump --xml Security.evtx | less',
      'exhunt evtx dump - < Application.evtx',
    ]))
    .description('print every record as one JSON object per line (or as XML with --xml)')
    .argument('<FILE...>', '.evtx files, XML event exports, event JSON Lines or EvtxECmd output; - reads one from stdin')
    .option('--xml', 'print the rendered event XML instead of JSON')
    .action(async (files: string[], opts: { xml?: boolean }) => {
      let unopened = 0;
      for (const path of files) if (!(await (path === '-' ? dumpStdin(opts.xml === true) : dumpFile(path, opts.xml === true)))) unopened++;
      if (unopened) throw new UsageError(`${unopened} of ${files.length} file(s) could not be read`);
    });
}

/** Dumps one file; returns false when it could not be opened or is not an event log. Damage is reported, not fatal. */
async function dumpFile(path: string, xml: boolean): Promise<boolean> {
  const file = await openFile(path);
  return file ? dumpOpened(file, path, xml) : false;
}

async function dumpOpened(file: EvidenceFile, path: string, xml: boolean): Promise<boolean> {
  const head = await readHead(file, 64 * 1024);
  const format = detectEventLog(head);
  if (!format) {
    warn(`${path}: not an event log (.evtx, XML export, event JSON Lines or EvtxECmd output)`);
    return false;
  }
  const problems: EvtxProblem[] = [];
  let reported = 0;
  const reportNew = (): void => {
    for (; reported < problems.length; reported++) warn(problemLine(path, problems[reported]));
  };
  for await (const batch of readEventLog(file, format, problems, head)) {
    await writeStdout(batch.map((e) => (xml ? renderXml(e.xml) : JSON.stringify(jsonRecord(e)) + '\n')).join(''));
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

/**
 * stdin as one event log. EVTX needs random access (file header, then 64 KiB chunks), so the stream is spooled to
 * a private temporary file first and removed afterwards.
 */
async function dumpStdin(xml: boolean): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'exhunt-stdin-'));
  const spool = join(dir, 'stdin');
  try {
    await pipeline(process.stdin, createWriteStream(spool, { mode: 0o600 }));
    const st = await stat(spool);
    return await dumpOpened({ kind: 'fs', abs: spool, rel: 'stdin', size: st.size, mtimeMs: st.mtimeMs }, '-', xml);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SYSTEM_NUMBERS = [
  ['version', 'Version'],
  ['task', 'Task'],
  ['opcode', 'Opcode'],
  ['qualifiers', 'Qualifiers'],
  ['processId', 'ProcessID'],
  ['threadId', 'ThreadID'],
] as const;
const SYSTEM_STRINGS = [
  ['keywords', 'Keywords'],
  ['userSid', 'UserID'],
  ['activityId', 'ActivityID'],
  ['relatedActivityId', 'RelatedActivityID'],
  ['providerGuid', 'ProviderGuid'],
] as const;

/**
 * The JSON Lines shape of `exhunt evtx dump`: every key on every line (null when the event lacks it), `data` always
 * an object (unnamed values keyed by position as `Data[0]`, `Data[1]` …, as the scan's records name them).
 */
export function jsonRecord(e: EvtxEvent): Record<string, unknown> {
  const num = (k: string) => (e.system[k] !== undefined && /^\s*\d{1,15}\s*$/.test(e.system[k]) ? Number(e.system[k]) : null);
  const str = (k: string) => (e.system[k] !== undefined && e.system[k] !== '' ? e.system[k] : null);
  const data: Record<string, string> = Array.isArray(e.data) ? Object.fromEntries(e.data.map((v, i) => [`Data[${i}]`, v])) : e.data;
  return {
    record: e.record,
    time: e.time,
    eventId: e.eventId,
    level: e.level,
    provider: e.provider,
    channel: e.channel,
    computer: e.computer,
    ...Object.fromEntries(SYSTEM_NUMBERS.map(([key, name]) => [key, num(name)])),
    ...Object.fromEntries(SYSTEM_STRINGS.map(([key, name]) => [key, str(name)])),
    data,
    message: e.message ?? null,
  };
}

function problemLine(path: string, p: EvtxProblem): string {
  return `${path}: offset ${p.offset} (0x${p.offset.toString(16)}): ${p.reason}`;
}

function warn(line: string): void {
  process.stderr.write(`${ERROR_PREFIX} ${line.replace(/[\r\n]+/g, ' ')}\n`);
}

