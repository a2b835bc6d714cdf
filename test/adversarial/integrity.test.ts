// Integrity of preserved evidence, end to end through the CLI: `verify` fails (exit 1, one FAILED line saying why)
// whenever custody.log or the seal is missing, broken or inconsistent with the manifest; an attacker who rewrites
// case and seal together is caught only by the seal digest kept outside the case (`--expect`). A collect that fails
// (disk full, any write error) or is interrupted (SIGINT/SIGTERM) ends without a stack trace, with its documented
// exit code, leaving the case marked incomplete: `verify` refuses it (exit 4) and a re-run needs `--replace`.
// The source is the example server mail01 (examples/evidence/mail01-compromised: a ProxyLogon victim).
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { closeZips, listZip, openZipEntryStream } from '../../src/evidence/zip.js';
import { CLI, exhunt } from '../support/cli.js';

const MAIL01 = resolve('examples/evidence/mail01-compromised/C');
const SHELL = 'files/C/inetpub/wwwroot/aspnet_client/system_web/xHA6boc8.aspx';
const dir = mkdtempSync(join(tmpdir(), 'exhunt-integrity-'));
afterAll(async () => {
  await closeZips();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
let n = 0;
/** A fresh case of mail01 (folder, or zip when `zip`), and the seal digest collect printed. */
function collectCase(zip = false): { path: string; seal: string } {
  const path = join(dir, `case${++n}${zip ? '.zip' : ''}`);
  const r = exhunt(['collect', `C=${MAIL01}`, '--case', path, '--host', 'MAIL01']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const seal = /^Seal: ([0-9a-f]{64})$/m.exec(r.stdout)?.[1];
  expect(seal).toBeDefined();
  return { path, seal: seal as string };
}

function verify(path: string, ...extra: string[]) {
  const r = exhunt(['verify', path, ...extra]);
  const last = r.stdout.trimEnd().split('\n').pop() ?? '';
  return { ...r, last };
}

/** Expect a failed verify: exit 1, the last line FAILED with the reason, no stack trace. */
function expectFailed(path: string, reason: RegExp, ...extra: string[]): void {
  const r = verify(path, ...extra);
  expect(r.last).toMatch(/^FAILED: /);
  expect(r.last).toMatch(reason);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(1);
}

/** Swaps the web shell for a harmless page and rewrites its size and hash in the manifest, as an insider would. */
function swapShell(manifestText: string, replacement: Buffer): string {
  const m = JSON.parse(manifestText) as { files: Array<{ path: string; size: number; sha256: string }> };
  const f = m.files.find((x) => x.path === SHELL);
  if (!f) throw new Error('shell not in the manifest');
  f.size = replacement.length;
  f.sha256 = sha(replacement);
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** The collect record re-pinned to a rewritten manifest (what a careful forger does next). */
function repin(custodyText: string, manifest: string): string {
  const rec = JSON.parse(custodyText) as Record<string, unknown>;
  rec.sha256 = sha(manifest);
  return `${JSON.stringify(rec)}\n`;
}

/** In a folder case: the shell swapped, the manifest rewritten, and (with `repinLog`) custody.log re-pinned to it. */
function forgeFolder(path: string, repinLog: boolean): { manifest: string; custody: string } {
  const page = Buffer.from('<html></html>');
  writeFileSync(join(path, SHELL), page);
  const manifest = swapShell(readFileSync(join(path, 'manifest.json'), 'utf8'), page);
  const custody = repin(readFileSync(join(path, 'custody.log'), 'utf8'), manifest);
  writeFileSync(join(path, 'manifest.json'), manifest);
  if (repinLog) writeFileSync(join(path, 'custody.log'), custody);
  return { manifest, custody };
}

async function zipEntry(zip: string, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await openZipEntryStream(zip, name)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('verify a folder case', () => {
  it('an untouched case verifies, and --expect with the printed seal proves it unchanged', () => {
    const c = collectCase();
    const r = verify(c.path, '--expect', c.seal);
    expect(r.stdout).toContain(`seal digest: ${c.seal} (the one you kept)`);
    expect(r.last).toBe('OK: case unchanged since collection (its seal digest is the one kept at collection)');
    expect(r.code).toBe(0);
    // The seal of a folder case is reproducible by hand: `cat manifest.json custody.log | sha256sum`.
    expect(sha(Buffer.concat([readFileSync(join(c.path, 'manifest.json')), readFileSync(join(c.path, 'custody.log'))]))).toBe(c.seal);
    expect(verify(c.path).last).toMatch(/^OK: case consistent with its own records; compare the seal digest/);
  });

  it('custody.log deleted: fails', () => {
    const c = collectCase();
    unlinkSync(join(c.path, 'custody.log'));
    expectFailed(c.path, /custody\.log is missing/);
  });

  it('custody.log replaced by a FIFO or a link elsewhere: fails as missing, without hanging', () => {
    const c = collectCase();
    const log = join(c.path, 'custody.log');
    unlinkSync(log);
    expect(spawnSync('mkfifo', [log]).status).toBe(0);
    expectFailed(c.path, /custody\.log is missing/);
    unlinkSync(log);
    symlinkSync(join(dir, `case${n}.custody.log`), log);
    expectFailed(c.path, /custody\.log is missing/);
  });

  it('a custody.log line broken: fails naming the line', () => {
    const c = collectCase();
    const log = join(c.path, 'custody.log');
    writeFileSync(log, readFileSync(log, 'utf8').replace('"action":"collect"', '"action":"collect"\u0000,'));
    expectFailed(c.path, /custody\.log line 1 is broken: not a JSON record/);
  });

  it('a file swapped and its hash rewritten in the manifest: fails (manifest no longer pinned by custody.log)', () => {
    const c = collectCase();
    const page = Buffer.from('<%@ Page Language="C#" %>\r\n<html><body>Under maintenance</body></html>\r\n');
    writeFileSync(join(c.path, SHELL), page);
    writeFileSync(join(c.path, 'manifest.json'), swapShell(readFileSync(join(c.path, 'manifest.json'), 'utf8'), page));
    expectFailed(c.path, /manifest\.json changed since collection/);
  });

  it('a forged collect line appended to custody.log: fails naming the line', () => {
    const c = collectCase();
    appendFileSync(join(c.path, 'custody.log'), forgeFolder(c.path, false).custody);
    const r = verify(c.path);
    expect(r.last).toMatch(/^FAILED: manifest\.json changed since collection/);
    expect(r.stdout).toMatch(/custody\.log line 2: a "collect" record after the collect record/);
    expect(r.code).toBe(1);
  });

  it('manifest and custody.log rewritten consistently: the seal beside the case catches it', () => {
    const c = collectCase();
    forgeFolder(c.path, true);
    expectFailed(c.path, /manifest\.json \+ custody\.log changed since they were sealed/);
  });

  it('case and seal rewritten together: internally consistent, caught only by the digest kept outside (--expect)', () => {
    const c = collectCase();
    const { manifest, custody } = forgeFolder(c.path, true);
    const seal = JSON.parse(readFileSync(`${c.path}.custody.log`, 'utf8')) as Record<string, unknown>;
    seal.sha256 = sha(manifest + custody);
    writeFileSync(`${c.path}.custody.log`, `${JSON.stringify(seal)}\n`);
    // What verify can and cannot prove: without the kept digest it can only say the records agree.
    const alone = verify(c.path);
    expect(alone.code).toBe(0);
    expect(alone.last).toMatch(/^OK: case consistent with its own records; compare the seal digest with the one kept at collection/);
    expectFailed(c.path, new RegExp(`not ${c.seal}, the one kept at collection: this is not the case as collected`), '--expect', c.seal);
  });

  it('the seal missing: fails, unless the digest kept outside the case is given and matches', () => {
    const c = collectCase();
    unlinkSync(`${c.path}.custody.log`);
    expectFailed(c.path, /the seal .*case\d+\.custody\.log is missing/);
    expect(verify(c.path, '--expect', c.seal).code).toBe(0);
  });

  it('a seal with a second record or a broken line: fails', () => {
    const c = collectCase();
    const seal = `${c.path}.custody.log`;
    const text = readFileSync(seal, 'utf8');
    writeFileSync(seal, text + text);
    expectFailed(c.path, /must hold exactly one seal record/);
    writeFileSync(seal, text.slice(0, 40));
    expectFailed(c.path, /custody\.log line 1 is broken/);
  });

  it('--expect must be a SHA-256, the case must exist: usage errors (exit 2), one line', () => {
    const r = exhunt(['verify', join(dir, 'nowhere'), '--expect', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('exhunt: --expect takes the 64-hex-digit seal digest collect printed, not abc\n');
    expect(exhunt(['verify', join(dir, 'nowhere')])).toMatchObject({ code: 2, stderr: `exhunt: ${join(dir, 'nowhere')} does not exist\n` });
  });
});

describe('verify a zip case', () => {
  it('verifies with the seal collect printed (the zip SHA-256, as sha256sum gives it)', () => {
    const c = collectCase(true);
    expect(sha(readFileSync(c.path))).toBe(c.seal);
    expect(verify(c.path, '--expect', c.seal).code).toBe(0);
  });

  it('a zip rebuilt with a file swapped, manifest and custody.log rewritten, and its seal removed: fails', async () => {
    const c = collectCase(true);
    const page = Buffer.from('<html></html>');
    const manifest = swapShell((await zipEntry(c.path, 'manifest.json')).toString('utf8'), page);
    const custody = repin((await zipEntry(c.path, 'custody.log')).toString('utf8'), manifest);
    const zip = new yazl.ZipFile();
    for (const e of await listZip(c.path, () => undefined)) {
      const body = e.name === SHELL ? page : e.name === 'manifest.json' ? Buffer.from(manifest) : e.name === 'custody.log' ? Buffer.from(custody) : await zipEntry(c.path, e.name);
      zip.addBuffer(body, e.name);
    }
    zip.end();
    const parts: Buffer[] = [];
    for await (const p of zip.outputStream) parts.push(p as Buffer);
    await closeZips();
    writeFileSync(c.path, Buffer.concat(parts));
    unlinkSync(`${c.path}.custody.log`);
    expectFailed(c.path, /the seal .*\.zip\.custody\.log is missing/);
    expectFailed(c.path, /this is not the case as collected/, '--expect', c.seal);
  });

  it('custody.log removed from the zip: fails', async () => {
    const c = collectCase(true);
    const zip = new yazl.ZipFile();
    for (const e of await listZip(c.path, () => undefined)) if (e.name !== 'custody.log') zip.addBuffer(await zipEntry(c.path, e.name), e.name);
    zip.end();
    const parts: Buffer[] = [];
    for await (const p of zip.outputStream) parts.push(p as Buffer);
    await closeZips();
    writeFileSync(c.path, Buffer.concat(parts));
    expectFailed(c.path, /custody\.log is missing/);
  });

  it('a truncated zip without a marker: fails saying it cannot be read, no stack trace', () => {
    const c = collectCase(true);
    truncateSync(c.path, 4000);
    expectFailed(c.path, /^FAILED: the case zip cannot be read: /);
  });
});

/**
 * A copy of mail01 with one large IIS log, so a collect takes long enough to interrupt or outgrows a limit: sparse
 * (costs no disk) or, for zips that would compress it to nothing, incompressible (AES-CTR keystream, deterministic).
 */
function bigSource(mib: number, incompressible = false): string {
  const src = join(dir, `src-${++n}`);
  cpSync(MAIL01, src, { recursive: true });
  const big = join(src, 'inetpub/logs/LogFiles/W3SVC1/u_ex210311.log');
  if (incompressible) {
    const aes = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16));
    writeFileSync(big, Buffer.concat([aes.update(Buffer.alloc(mib * 1024 * 1024)), aes.final()]));
    return src;
  }
  writeFileSync(big, '#Software: Microsoft Internet Information Services 10.0\r\n');
  truncateSync(big, mib * 1024 * 1024);
  return src;
}

const noStack = (stderr: string): void => expect(stderr).not.toMatch(/^\s+at /m);

describe('an interrupted or failed collect leaves the case marked incomplete', () => {
  it.each([
    ['SIGINT', 130, false],
    ['SIGTERM', 143, true],
  ] as const)('%s: exit %i, one line, marker; verify refuses (exit 4); a re-run needs --replace', async (signal, code, zip) => {
    const src = bigSource(2048);
    const out = join(dir, `interrupted-${signal}${zip ? '.zip' : ''}`);
    const child = spawn(process.execPath, [CLI, 'collect', `C=${src}`, '--case', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const partial = zip ? out : join(out, 'files/C/inetpub/logs/LogFiles/W3SVC1/u_ex210311.log');
    // Kill it once the big log is being copied (the marker is written before anything else).
    for (let i = 0; i < 3000 && !existsSync(partial); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`${out}.incomplete`)).toBe(true);
    child.kill(signal);
    const exit = await new Promise<number | null>((r) => child.on('close', r));
    expect(exit).toBe(code);
    expect(stderr.trim().split('\n')).toEqual([`exhunt: collect interrupted by ${signal}; ${out} is incomplete (marked by ${out}.incomplete): collect again with --replace`]);
    expect(JSON.parse(readFileSync(`${out}.incomplete`, 'utf8')).state).toMatch(new RegExp(`^interrupted by ${signal} after \\d+ files$`));
    const v = verify(out);
    expect(v.code).toBe(4);
    expect(v.last).toMatch(new RegExp(`^FAILED: the case is incomplete: interrupted by ${signal} after \\d+ files`));
    noStack(v.stderr);
    // A scan still reads what was copied, and says the case is incomplete.
    const scanned = JSON.parse(exhunt(['scan', out, '--json', '-']).stdout) as { hosts: Array<{ skipped: Array<{ path: string; reason: string }> }> };
    expect(scanned.hosts[0].skipped).toContainEqual(expect.objectContaining({ path: `${basename(out)}.incomplete`, reason: expect.stringMatching(/^case incomplete: the collect that wrote it did not finish/) }));
    const again = exhunt(['collect', `C=${MAIL01}`, '--case', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`exhunt: ${out} is an incomplete case (${out}.incomplete): collect again with --replace\n`);
    const replaced = exhunt(['collect', `C=${MAIL01}`, '--case', out, '--replace']);
    expect(replaced.code).toBe(0);
    expect(existsSync(`${out}.incomplete`)).toBe(false);
    expect(verify(out).code).toBe(0);
  });

  it('a finished case is never replaced, and --replace removes nothing collect did not write', () => {
    const c = collectCase();
    const r = exhunt(['collect', `C=${MAIL01}`, '--case', c.path, '--replace']);
    expect(r).toMatchObject({ code: 2, stderr: `exhunt: case folder ${c.path} is not empty\n` });
    const out = join(dir, 'foreign');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'analyst notes');
    writeFileSync(`${out}.incomplete`, '{}');
    const f = exhunt(['collect', `C=${MAIL01}`, '--case', out, '--replace']);
    expect(f).toMatchObject({ code: 2, stderr: `exhunt: ${out} holds notes.txt, which collect does not write: not replaced\n` });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('analyst notes');
  });

  // RLIMIT_FSIZE makes the kernel refuse writes past 8 MiB (EFBIG; Node ignores SIGXFSZ): a real write error,
  // without privileges.
  it.each([false, true])('a write error (file size limit) ends the collect: exit 4, one line, marked incomplete (zip: %s)', (zip) => {
    const src = bigSource(16, true);
    const out = join(dir, `efbig-${n}${zip ? '.zip' : ''}`);
    const r = spawnSync('bash', ['-c', 'ulimit -f 8192; exec "$0" "$@"', process.execPath, CLI, 'collect', `C=${src}`, '--case', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(4);
    expect(r.stderr).toBe(`exhunt: collect cannot write the case: EFBIG: file too large, write; ${out} is incomplete (marked by ${out}.incomplete): collect again with --replace\n`);
    expect(JSON.parse(readFileSync(`${out}.incomplete`, 'utf8')).state).toMatch(/^failed: EFBIG: file too large, write after \d+ files$/);
    const v = verify(out);
    expect(v.code).toBe(4);
    expect(v.last).toMatch(/^FAILED: the case is incomplete: failed: EFBIG/);
  });

  // A real full disk: a 4 MiB tmpfs (needs root / CAP_SYS_ADMIN, skipped otherwise).
  it('disk full (ENOSPC on a small tmpfs): exit 4, one line, no stack trace, marked incomplete', (ctx) => {
    const mnt = join(dir, 'full');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status === 0;
    ctx.skip(!mounted, 'cannot mount a tmpfs here (needs root)');
    try {
      const src = bigSource(8, true);
      for (const out of [join(mnt, 'mail01'), join(mnt, 'mail01.zip')]) {
        const r = exhunt(['collect', `C=${src}`, '--case', out]);
        expect(r.stderr).toMatch(new RegExp(`^exhunt: collect cannot write the case: ENOSPC: no space left on device[^;\\n]*; ${out} is incomplete \\(marked by ${out}\\.incomplete\\): collect again with --replace\\n$`));
        noStack(r.stderr);
        expect(r.code).toBe(4);
        expect(existsSync(`${out}.incomplete`)).toBe(true);
        expect(verify(out).code).toBe(4);
        rmSync(out, { recursive: true, force: true });
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
