// Hostile strings through every output: HTML (direction controls), CSV (terminal controls, colliding host names),
// `evtx dump --xml` (controls), a closed pipe (EPIPE), and EVTX problem offsets of a truncated file.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findingsCsv, writeCsv } from '../../src/report/csv.js';
import { renderHtml } from '../../src/report/html.js';
import { readEvtxBuffer, type EvtxProblem } from '../../src/parsers/evtx/index.js';
import { CLI, exhunt } from '../support/cli.js';
import { compromisedFindings, finding, FULL_COVERAGE, host, report } from '../support/report-fixtures.js';
import { scriptBlocksEvtx } from './gen/evtx.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-outputs-'));
const RLO = '\u202e';
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A web shell named so that it reads "…xcod.aspx" as "…xpsa.docx", and a summary with terminal escapes. */
function hostileHost(name = 'MAIL01') {
  const shell = `Exchange/FrontEnd/HttpProxy/owa/auth/invoice${RLO}xcod.aspx`;
  return host(name, [
    ...compromisedFindings(),
    finding({ id: 'F11', rule: 'WS-20', kind: 'webshell', severity: 'critical', source: { path: shell }, summary: `shell \u001b]0;owned\u0007\u001b[2J\u0000 here`, evidence: { file: shell } }),
  ], FULL_COVERAGE, 'compromised');
}

describe('fail-safe outputs', () => {
  it('HTML: no raw direction control anywhere in the file; the name shows the control by name', () => {
    const html = renderHtml(report([hostileHost()]));
    expect(html).not.toMatch(BIDI);
    expect(html).toContain('\\u202e'); // in the embedded JSON, escaped; the client script names it [U+202E]
    expect(html).toContain("'[U+' + c.charCodeAt(0).toString(16).toUpperCase() + ']'");
  });

  it('HTML: no raw terminal control anywhere in the file (`cat report.html`); the text shows each by name', () => {
    const html = renderHtml(report([hostileHost()]));
    expect(html).not.toMatch(CONTROLS);
    expect(html).toContain('shell [U+1B]]0;owned[U+7][U+1B][2J[U+0] here');
  });

  it('CSV: ESC, BEL and NUL from evidence are written as \\xNN, never raw', () => {
    const csv = findingsCsv(report([hostileHost()]));
    expect(csv).not.toMatch(CONTROLS);
    expect(csv).toContain('shell \\x1b]0;owned\\x07\\x1b[2J\\x00 here');
  });

  it('CSV: hosts whose names collide (same name, case, or after sanitising) never overwrite each other', async () => {
    const out = join(dir, 'csv');
    await writeCsv(report([hostileHost('MAIL01'), hostileHost('mail01'), hostileHost('MAIL/01'), hostileHost('MAIL_01')]), out);
    const files = readdirSync(out).filter((f) => f.endsWith('-Cve-2021-26858.log')).sort();
    expect(files).toEqual(['MAIL01-Cve-2021-26858.log', 'MAIL_01-2-Cve-2021-26858.log', 'MAIL_01-Cve-2021-26858.log', 'mail01-2-Cve-2021-26858.log']);
  });

  it('evtx dump --xml: control and direction characters in event data are character references', () => {
    const path = join(dir, 'controls.evtx');
    writeFileSync(path, scriptBlocksEvtx([`Write-Host "\u001b]0;pwned\u0007\u001b[31m red ${RLO}gpj.exe"`]));
    const r = exhunt(['evtx', 'dump', '--xml', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(CONTROLS);
    expect(r.stdout).not.toMatch(BIDI);
    expect(r.stdout).toContain('Write-Host &quot;&#x1B;]0;pwned&#x7;&#x1B;[31m red &#x202E;gpj.exe&quot;');
  });

  it('evtx dump | head: the closed pipe ends the dump quietly (before: unhandled EPIPE, stack trace)', () => {
    const path = join(dir, 'many.evtx');
    writeFileSync(path, scriptBlocksEvtx(Array.from({ length: 400 }, (_, i) => `Get-Item C:\\inetpub\\wwwroot\\aspnet_client\\file${i}.aspx`)));
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" evtx dump ${Array(20).fill(`"${path}"`).join(' ')} | head -c 100 >/dev/null`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('EVTX: a file cut inside a record reports offsets inside the file only', () => {
    const full = scriptBlocksEvtx(Array.from({ length: 40 }, (_, i) => `Get-Process -Id ${i}`));
    for (const cut of [0x1000 + 1170, 0x1000 + 1980, 0x1000 + 2880]) {
      const problems: EvtxProblem[] = [];
      const events = [...readEvtxBuffer(full.subarray(0, cut), problems)];
      expect(events.length).toBeGreaterThan(0);
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect([p.reason, p.offset < cut]).toEqual([p.reason, true]);
      expect(problems.some((p) => /cut short by the end of the file/.test(p.reason))).toBe(true);
    }
  });
});

// Progress lines are drawn only on a terminal: `script` gives the CLI one (util-linux; skipped where absent).
const ESCAPE_NAME = 'evil\u001b]0;owned\u0007\u001b[2J';
/** Any escape sequence but the progress line's own `\r ESC [K`. */
const FOREIGN_ESCAPE = /\u001b(?!\[K)|\u0007/;

function underTerminal(args: string[]): string {
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return `${r.stdout}${r.stderr}`;
}

describe('terminal lines carrying evidence names', () => {
  const hasScript = spawnSync('script', ['-V'], { stdio: 'ignore' }).status === 0;

  it('scan progress: a host folder named with terminal escapes is shown neutralised', (ctx) => {
    ctx.skip(!hasScript, 'no `script` command to run the CLI under a terminal');
    const host = join(dir, `${ESCAPE_NAME}host`);
    cpSync('examples/evidence/mail02-clean', host, { recursive: true });
    const out = underTerminal(['scan', host, '-j', '1']);
    expect(out).toContain('scanning evil'); // the progress line was drawn
    expect(out).not.toMatch(FOREIGN_ESCAPE);
  });

  it('collect progress and verify lines: a file named with terminal escapes is shown neutralised', (ctx) => {
    ctx.skip(!hasScript, 'no `script` command to run the CLI under a terminal');
    const vol = join(dir, 'vol-escape');
    cpSync('examples/evidence/mail02-clean/C/inetpub', join(vol, 'inetpub'), { recursive: true });
    mkdirSync(join(vol, 'inetpub', 'wwwroot'));
    writeFileSync(join(vol, 'inetpub', 'wwwroot', `${ESCAPE_NAME}.aspx`), 'x');
    const out = join(dir, 'case-escape');
    const progress = underTerminal(['collect', `C=${vol}`, '--case', out, '--host', 'MAIL02']);
    expect(progress).toMatch(/files, [\d.]+ MiB/); // progress lines were drawn
    expect(progress).not.toMatch(FOREIGN_ESCAPE);
    // verify names the file it did not expect, through the same neutralising.
    writeFileSync(join(out, 'files', `${ESCAPE_NAME}.txt`), 'planted');
    const v = exhunt(['verify', out]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('EXTRA    files/evil');
    expect(v.stdout).not.toMatch(/\u001b|\u0007/);
  });
});
