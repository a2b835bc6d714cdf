// Issue 17, streaming results: a fleet that floods the reports finishes with every output complete and valid under a
// small V8 heap. The same generator as bench/fleet-memory.mjs (50 hosts × 32k findings, 200k files), smaller: 10
// hosts × 20,000 ProxyLogon scanner probes plus 3,000 unknown pages in one host's aspnet_client. Before streaming,
// this run took 2.6 GB of RSS and ended with "Invalid string length" and no NDJSON/Timesketch/STIX; the heap limit
// below is far under that, so the old code cannot pass.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ES module shared with the bench, no type declarations
import { makeFleet } from '../bench/fleet-gen.mjs';
import type { ScanReport } from '../src/model.js';
import { CLI } from './support/cli.js';

const HOSTS = 10;
const FINDINGS = 20_000;
const FILES = 3_000;
/** V8 old-space limit of the scan (MB): the heap the streamed reports need stays well under it. */
const HEAP_MB = 160;

const schema = JSON.parse(readFileSync('schema/exhunt.scan-1.schema.json', 'utf8'));
// ajv's CommonJS default export under NodeNext typing
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
(addFormats as unknown as typeof addFormats.default)(ajv);
const validateReport = ajv.compile(schema);

describe(`a fleet of ${HOSTS} hosts × ${FINDINGS} findings under --max-old-space-size=${HEAP_MB}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-fleet-mem-'));
  const out = join(dir, 'out');
  let run: { status: number | null; stderr: string };

  beforeAll(() => {
    makeFleet(join(dir, 'fleet'), { hosts: HOSTS, findings: FINDINGS, files: FILES });
    mkdirSync(out);
    const args = ['--hosts-from', join(dir, 'fleet'), '-q', '--jobs', '1', '--json', join(out, 'r.json'), '--ndjson', join(out, 'r.ndjson'), '--ndjson-hosts', '--csv', join(out, 'csv'), '--html', join(out, 'r.html'), '--timesketch', join(out, 'r.jsonl'), '--stix', join(out, 'r.stix.json')];
    const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, 'scan', ...args], { encoding: 'utf8', timeout: 600_000 });
    run = { status: r.status, stderr: r.stderr };
  }, 900_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ends normally (exit 1: attacks seen), nothing on stderr', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
  });

  it('writes a complete JSON report, valid against the schema, with the floods grouped', () => {
    const rep = JSON.parse(readFileSync(join(out, 'r.json'), 'utf8')) as ScanReport;
    expect(validateReport(rep), JSON.stringify(validateReport.errors?.slice(0, 3))).toBe(true);
    expect(rep.hosts.map((h) => h.label)).toEqual(Array.from({ length: HOSTS }, (_, i) => `host${String(i + 1).padStart(2, '0')} (MAIL${String(i + 1).padStart(2, '0')})`));
    for (const h of rep.hosts) {
      const probes = h.findings.filter((f) => f.rule === 'PL-04');
      expect(probes).toHaveLength(1);
      expect(probes[0].group).toMatchObject({ count: FINDINGS, distinct_ips: 250, first_time: '2021-03-07T00:00:00.000Z' });
      // Incidents do not multiply per finding: one row, one story.
      expect(h.incidents.length).toBeLessThanOrEqual(2);
    }
    const shells = rep.hosts[0].findings.filter((f) => f.rule === 'WS-01');
    expect(shells).toHaveLength(1);
    expect(shells[0].group).toMatchObject({ count: FILES, folder: 'C/inetpub/wwwroot/aspnet_client/system_web/' });
    expect(shells[0].group?.first).toHaveLength(5);
  });

  it('writes every other output whole', () => {
    const ndjson = readFileSync(join(out, 'r.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(ndjson.filter((d) => d.event.kind === 'state')).toHaveLength(HOSTS);
    const probes = ndjson.filter((d) => d.rule?.id === 'PL-04');
    expect(probes).toHaveLength(HOSTS);
    expect(probes.every((d) => d.exhunt.group.count === FINDINGS)).toBe(true);
    const html = readFileSync(join(out, 'r.html'), 'utf8');
    expect(html.endsWith('</html>\n')).toBe(true);
    expect(html.match(/<section class="host" id="host-\d+"/g)).toHaveLength(HOSTS);
    const data = JSON.parse(/<script type="application\/json" id="exhunt-data">(.*?)<\/script>/s.exec(html)![1]);
    expect(data.hosts).toHaveLength(HOSTS);
    const csv = readFileSync(join(out, 'csv', 'exhunt-findings.csv'), 'utf8').trimEnd().split('\r\n');
    expect(csv.filter((l) => l.includes(',"PL-04",'))).toHaveLength(HOSTS);
    expect(csv.filter((l) => l.includes('"20,000 findings of this kind'))).toHaveLength(HOSTS);
    expect(readdirSync(join(out, 'csv'))).toContain('host01_MAIL01-other.csv');
    for (const l of readFileSync(join(out, 'r.jsonl'), 'utf8').trim().split('\n')) JSON.parse(l);
    expect(JSON.parse(readFileSync(join(out, 'r.stix.json'), 'utf8')).type).toBe('bundle');
    expect(existsSync(join(out, 'r.json'))).toBe(true);
  });
});
