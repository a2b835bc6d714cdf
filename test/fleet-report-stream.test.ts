// `exhunt report` reads result files host by host and writes every output a piece at a time (issue 17: no result file
// and no output is ever one string). Pinned three ways: the outputs are byte for byte those of the previous, in-memory
// implementation (test/fixtures/fleet-report/, written by it from the inputs built below); result files in every
// valid JSON shape give the same fleet and broken ones are named with the byte where they break; and a result file
// several times larger than the V8 heap it is given is read in a child process held to that heap.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { FleetBuilder, type FleetReport } from '../src/report/fleet-report.js';
import { CLI, exhunt } from './support/cli.js';

const GOLDEN = resolve('test/golden');
const EXPECTED = resolve('test/fixtures/fleet-report');
/** The golden scans as they were when the expected outputs were written (frozen: test/golden may be regenerated). */
const INPUTS = join(EXPECTED, 'inputs');
const HOSTS = ['mail01-compromised', 'mail02-clean', 'mail03-scanned', 'mail04-nologs'];
const dir = mkdtempSync(join(tmpdir(), 'exhunt-fleet-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const golden = (name: string): ScanReport => JSON.parse(readFileSync(join(GOLDEN, `${name}.json`), 'utf8')) as ScanReport;

/** mail01 again under a hostile label (bidi override, a CSV formula, markup) and server name: campaigns with mail01. */
function hostile(): ScanReport {
  const r = JSON.parse(readFileSync(join(INPUTS, 'mail01-compromised.json'), 'utf8')) as ScanReport;
  r.tool.finished = '2026-01-02T03:04:05.000Z';
  const h = r.hosts[0];
  h.name = 'MAIL05\u202excod.aspx';
  h.label = "=cmd|'/c calc'!A1 <script>alert(1)</script> (MAIL05\u202excod.aspx)";
  return r;
}

/** The time of the run, the one thing that differs between runs. */
const normalise = (text: string) =>
  text.replace(/"generated": "[^"]*"/, '"generated": "<generated>"').replace(/generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/, 'generated <generated>');

describe('exhunt report writes what the in-memory renderers wrote, byte for byte', () => {
  const inputs = join(dir, 'inputs');
  mkdirSync(inputs);
  for (const n of HOSTS) writeFileSync(join(inputs, `${n}.json`), readFileSync(join(INPUTS, `${n}.json`)));
  writeFileSync(join(inputs, 'hostile.json'), `${JSON.stringify(hostile(), null, 2)}\n`);
  const all = [...HOSTS, 'hostile'].map((n) => `${n}.json`);
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'report', ...args], { cwd: inputs, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('JSON, HTML, CSV, NDJSON and the terminal table (with a host scanned twice)', () => {
    const r = run([...all, 'mail01-compromised.json', '--json', 'fleet.json', '--html', 'fleet.html', '--csv', 'csv', '--ndjson', 'fleet.ndjson']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(readFileSync(join(EXPECTED, 'terminal.txt'), 'utf8'));
    for (const f of ['fleet.json', 'fleet.html', 'fleet.ndjson']) expect(normalise(readFileSync(join(inputs, f), 'utf8')), f).toBe(readFileSync(join(EXPECTED, f), 'utf8'));
    for (const f of ['fleet-hosts.csv', 'fleet-campaigns.csv']) expect(readFileSync(join(inputs, 'csv', f), 'utf8'), f).toBe(readFileSync(join(EXPECTED, f), 'utf8'));
  });

  it('--summary, and --json - on stdout (no terminal view then)', () => {
    expect(run([...all, '--summary']).stdout).toBe(readFileSync(join(EXPECTED, 'summary.txt'), 'utf8'));
    const r = run(['hostile.json', 'mail02-clean.json', '--json', '-']);
    expect(normalise(r.stdout)).toBe(readFileSync(join(EXPECTED, 'stdout.json'), 'utf8'));
  });
});

describe('result files are read host by host, in any valid JSON shape', () => {
  const write = (name: string, text: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const fleetOf = async (file: string): Promise<FleetReport> => {
    const b = new FleetBuilder();
    await b.addFile(file);
    return b.build();
  };
  const inMemory = (r: ScanReport, file: string): FleetReport => {
    const b = new FleetBuilder();
    b.add(r, file);
    return b.build();
  };
  const same = (a: FleetReport, b: FleetReport) => expect({ ...a, tool: null }).toEqual({ ...b, tool: null });

  it('pretty, compact, with a BOM, hosts before tool, strings full of braces, quotes and escapes', async () => {
    const r = golden('mail01-compromised');
    // A finding whose strings hold every byte the splitter must not take for structure.
    r.hosts[0].findings[0].summary = 'a "quoted" {brace} [bracket], comma: \\ backslash \\" \u2028 \u202e end\\';
    const two = { ...r, hosts: [r.hosts[0], { ...r.hosts[0], name: 'MAIL09', label: 'x (MAIL09)' }] };
    const expected = (file: string) => inMemory(two as ScanReport, file);
    for (const [name, text] of [
      ['pretty.json', `${JSON.stringify(two, null, 2)}\n`],
      ['compact.json', JSON.stringify(two)],
      ['bom.json', `\ufeff${JSON.stringify(two)}`],
      ['hosts-first.json', JSON.stringify({ hosts: two.hosts, schema: two.schema, extra: [1, { a: ']' }], tool: two.tool })],
      ['spaced.json', JSON.stringify(two, null, '\t').replace(/,\n/g, '\r\n,\t')],
    ] as const) {
      const file = write(name, text);
      same(await fleetOf(file), expected(file));
    }
  });

  it('names a broken or foreign file and where it breaks', async () => {
    const good = JSON.stringify(golden('mail02-clean'));
    const cut = Buffer.byteLength(good.slice(0, 5000));
    const cases: Array<[string, string, RegExp]> = [
      ['truncated.json', good.slice(0, 5000), new RegExp(`: not JSON \\(unexpected end of the file at byte ${cut}\\)$`)],
      ['garbage.json', `${good}x`, new RegExp(`: not JSON \\(data after the end of the object at byte ${Buffer.byteLength(good)}\\)$`)],
      ['array.json', '[1,2]', /: not JSON \(not a JSON object at byte 0\)$/],
      ['bad-host.json', good.replace('"hosts": [', '"hosts": [{"x": tru}, ').replace('"hosts":[', '"hosts":[{"x": tru},'), /: not JSON \(.*JSON/],
      ['empty.json', '', /: not JSON \(unexpected end of the file at byte 0\)$/],
      ['fleet.json', JSON.stringify({ schema: 'exhunt.fleet/1', hosts: [] }), /: not an exhunt scan result/],
      ['no-hosts.json', JSON.stringify({ schema: 'exhunt.scan/1', tool: {} }), /: not an exhunt scan result/],
      ['hosts-object.json', JSON.stringify({ schema: 'exhunt.scan/1', tool: {}, hosts: {} }), /: not an exhunt scan result/],
      // A `__proto__` member is a plain key: it cannot supply the missing `tool`.
      ['proto.json', '{"schema":"exhunt.scan/1","__proto__":{"tool":{}},"hosts":[]}', /: not an exhunt scan result/],
      ['two-hosts.json', '{"schema":"exhunt.scan/1","tool":{},"hosts":[],"hosts":[]}', /: a top-level member appears twice: not a result exhunt wrote$/],
      ['not-a-host.json', '{"schema":"exhunt.scan/1","tool":{},"hosts":[1]}', /: host 1 is not a host result \(/],
    ];
    for (const [name, text, msg] of cases) {
      const file = write(name, text);
      await expect(fleetOf(file), name).rejects.toThrow(msg);
      await expect(fleetOf(file), name).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    }
    await expect(fleetOf(dir)).rejects.toThrow(/: not readable \(EISDIR\)$/);
    const cli = exhunt(['report', write('cut.json', good.slice(0, 5000))]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toBe(`exhunt: ${join(dir, 'cut.json')}: not JSON (unexpected end of the file at byte ${cut})\n`);
  });
});

describe('a result file larger than the heap', () => {
  it('is read by a CLI held to a 48 MB V8 heap (the file is 130 MB: whole, it would not fit)', () => {
    // 1,000 hosts: the compromised example server under 1,000 names, written a host at a time.
    const r = golden('mail01-compromised');
    const file = join(dir, 'big.json');
    const fd = openSync(file, 'w');
    const head = JSON.stringify({ schema: r.schema, tool: r.tool, hosts: [] }, null, 2);
    writeSync(fd, `${head.slice(0, -'[]\n}'.length)}[`);
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const h = { ...r.hosts[0], name: `MAIL${i}`, label: `site${i} (MAIL${i})` };
      writeSync(fd, `${i ? ',' : ''}\n    ${JSON.stringify(h, null, 2).replace(/\n/g, '\n    ')}`);
    }
    writeSync(fd, '\n  ]\n}\n');
    closeSync(fd);
    expect(statSync(file).size).toBeGreaterThan(120e6);
    const out = join(dir, 'big-fleet.ndjson');
    const p = spawnSync(process.execPath, ['--max-old-space-size=48', CLI, 'report', file, '--ndjson', out, '--summary'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(1);
    expect(p.stdout.trimEnd().split('\n').pop()).toMatch(/^1000 hosts: 1000 compromised; \d+ cross-host indicators$/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; hosts?: string[] });
    expect(lines.filter((l) => l.type === 'host')).toHaveLength(n);
    // Every campaign of the shared shell links all 1,000 hosts.
    expect(lines.filter((l) => l.type === 'campaign').every((c) => c.hosts?.length === n)).toBe(true);
  }, 300_000);
});
