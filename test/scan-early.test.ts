// engine/scan.ts starts scanning a folder's files while it is still being listed. What the steps after the listing
// decide from the whole list must still hold for the files scanned early: here a KAPE ConsoleLog, walked (folder a/)
// before the CopyLog that makes the folder a KAPE collection (folder b/), is collection metadata, not evidence — its
// early result is dropped — while the same bytes under another name are swept and reported.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scan } from '../src/engine/scan.js';

const root = mkdtempSync(join(tmpdir(), 'exhunt-early-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// China Chopper's public one-liner.
const SHELL = '<%@ Page Language="Jscript"%><%eval(Request.Item["p"],"unsafe");%>\r\n';
const RUN = '2022-05-28T024344';

describe('files scanned while the folder is listed', () => {
  it('an early file that the finished list makes collection metadata is not reported; a plain one is', async () => {
    const host = join(root, 'kape');
    mkdirSync(join(host, 'a'), { recursive: true });
    mkdirSync(join(host, 'b', 'C', 'inetpub'), { recursive: true });
    writeFileSync(join(host, 'a', `${RUN}_ConsoleLog.txt`), SHELL);
    writeFileSync(join(host, 'a', 'notes.txt'), SHELL);
    writeFileSync(join(host, 'b', `${RUN}_CopyLog.csv`), 'CopiedTimestamp,SourceFile,DestinationFile\r\n');
    writeFileSync(join(host, 'b', 'C', 'inetpub', 'readme.txt'), 'hello\r\n');
    const report = await scan({ paths: [host], jobs: 1 });
    const paths = new Set(report.hosts[0].findings.map((f) => f.source.path));
    expect(paths.has('a/notes.txt')).toBe(true);
    expect(paths.has(`a/${RUN}_ConsoleLog.txt`)).toBe(false);
  });
});
