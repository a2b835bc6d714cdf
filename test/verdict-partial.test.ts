// A web log stopped by the per-file time limit was not read to its end, so it cannot support `clean`: end to end
// on the clean example server with one IIS log grown to three 4 MiB chunks of its own benign lines.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exhunt } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-partial-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const host = join(dir, 'mail02');
cpSync('examples/evidence/mail02-clean', host, { recursive: true });
const log = join(host, 'C/inetpub/logs/LogFiles/W3SVC1/u_ex210331.log');
const lines = readFileSync(log, 'utf8').split('\r\n').filter(Boolean);
const records = lines.filter((l) => !l.startsWith('#'));
const grown = [...lines];
while (grown.join('\r\n').length < 9 * 1024 * 1024) grown.push(...records);
writeFileSync(log, `${grown.join('\r\n')}\r\n`);

function verdictOf(extra: string[]) {
  const out = join(dir, `r${extra.length}.json`);
  const r = exhunt(['scan', host, '--json', out, ...extra]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return JSON.parse(readFileSync(out, 'utf8')).hosts[0] as { verdict: string; reasons: string[]; coverage: Array<{ source: string; partial?: string[] }> };
}

describe('a web log not read to its end', () => {
  it('read in full, the grown server is still clean', () => {
    expect(verdictOf([]).verdict).toBe('clean');
  });

  it('stopped by --file-time-limit, the host is insufficient-evidence and the file is named', () => {
    // One microsecond: no machine scans a 4 MiB chunk that fast, so the limit is hit at the first check.
    const h = verdictOf(['--file-time-limit', '0.000001']);
    expect(h.coverage.find((c) => c.source === 'IIS W3SVC1')?.partial).toHaveLength(1);
    expect(h.verdict).toBe('insufficient-evidence');
    expect(h.reasons[0]).toMatch(/1 web log file\(s\) were not read to the end \(per-file time limit, or data that ends early: see skipped\): .*u_ex210331\.log; for the time limit, scan again with a larger --file-time-limit/);
  });
});
