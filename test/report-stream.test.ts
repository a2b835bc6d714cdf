// Reports streamed host by host (src/report/stream.ts) are the same bytes as the in-memory renderers over the same
// hosts: the JSON of the examples stays byte-identical (the golden test pins its content), so do HTML, CSV,
// Timesketch and STIX; NDJSON differs only in event.created (each host's end instead of the scan's).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/model.js';
import { findingsCsv, writeCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { renderJson } from '../src/report/json.js';
import { renderNdjson } from '../src/report/ndjson.js';
import { renderHostVerdicts } from '../src/report/ndjson-hosts.js';
import { renderStix } from '../src/report/stix.js';
import { Out, ReportStream, Spool } from '../src/report/stream.js';
import { renderTimesketch } from '../src/report/timesketch.js';
import { scanExamples } from './support/examples.js';

async function streamed(rep: ScanReport, dir: string, bom: boolean): Promise<void> {
  const out = new ReportStream({
    json: join(dir, 'r.json'),
    html: join(dir, 'r.html'),
    ndjson: join(dir, 'r.ndjson'),
    ndjsonHosts: true,
    csv: join(dir, 'csv'),
    csvBom: bom,
    timesketch: join(dir, 'r.jsonl'),
    stix: join(dir, 'r.stix.json'),
  });
  await out.start();
  // The engine hands hosts over labelled (engine/scan.ts scanEach).
  for (const h of rep.hosts) await out.host(h, rep.tool.options.since);
  await out.finish(rep.tool);
}

describe('reports streamed host by host', () => {
  let rep: ScanReport;
  beforeAll(async () => {
    rep = await scanExamples();
  });

  for (const hosts of [4, 1, 0]) {
    it(`writes the same bytes as the in-memory renderers (${hosts} host${hosts === 1 ? '' : 's'})`, async () => {
      const part: ScanReport = { ...rep, hosts: rep.hosts.slice(0, hosts) };
      const dir = mkdtempSync(join(tmpdir(), 'exhunt-stream-'));
      await streamed(part, dir, hosts === 4);
      const read = (f: string) => readFileSync(join(dir, f), 'utf8');
      expect(read('r.json')).toBe(renderJson(part));
      expect(JSON.parse(read('r.json'))).toEqual(JSON.parse(renderJson(part)));
      expect(read('r.html')).toBe(renderHtml(part));
      expect(read('r.jsonl')).toBe(renderTimesketch(part));
      expect(read('r.stix.json')).toBe(renderStix(part));
      const created = /"created":"[^"]+"/g;
      const undated = /"@timestamp":"[^"]+"/g;
      const ndjson = (s: string) => s.replace(created, '"created":"T"').replace(undated, '"@timestamp":"T"');
      expect(ndjson(read('r.ndjson'))).toBe(ndjson(renderNdjson(part) + renderHostVerdicts(part)));
      const csvDir = mkdtempSync(join(tmpdir(), 'exhunt-stream-csv-'));
      await writeCsv(part, csvDir, { bom: hosts === 4 });
      expect(readdirSync(join(dir, 'csv')).sort()).toEqual(readdirSync(csvDir).sort());
      for (const f of readdirSync(csvDir)) expect(read(join('csv', f)), f).toBe(readFileSync(join(csvDir, f), 'utf8'));
      expect(read(join('csv', 'exhunt-findings.csv'))).toBe(findingsCsv(part, { bom: hosts === 4 }));
    });
  }

  it('leaves no temporary spool behind', async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('exhunt-spool-')).length;
    await streamed(rep, mkdtempSync(join(tmpdir(), 'exhunt-stream-')), false);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('exhunt-spool-')).length).toBe(before);
  });
});

describe('Spool', () => {
  it('leaves nothing in the temp folder, even while open (a killed scan leaves no spool), and copies what was written', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'exhunt-spooltest-'));
    const out = join(mkdtempSync(join(tmpdir(), 'exhunt-spoolout-')), 'o.json');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const s = new Spool();
      s.write('{"a":');
      s.write('"late"}\n');
      if (process.platform !== 'win32') expect(readdirSync(tmp)).toEqual([]);
      const o = Out.open(out);
      await s.copyTo(o);
      o.close();
      s.dispose();
      expect(readFileSync(out, 'utf8')).toBe('{"a":"late"}\n');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('hands each write its own bytes: stdout keeps a reference to what it has not sent yet (review9 F13)', async () => {
    const s = new Spool();
    // Several MiB: copied in several writes.
    const text = Array.from({ length: 50 }, (_, i) => `{"host":${i},"pad":"${'x'.repeat(i * 3701)}"},`);
    for (const t of text) s.write(t);
    // A writer that, like a full pipe, keeps the buffers it was given and sends them later.
    const kept: Buffer[] = [];
    const out = { write: async (d: string | Buffer) => void kept.push(typeof d === 'string' ? Buffer.from(d) : d) } as unknown as Out;
    await s.copyTo(out);
    s.dispose();
    expect(kept.length).toBeGreaterThan(2);
    expect(Buffer.concat(kept).toString('utf8')).toBe(text.join(''));
  });
});
