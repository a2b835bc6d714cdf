// The responder gets KAPE output, not the logs: EvtxECmd's CSV (its default) or JSON Lines. The same real events
// (the vendored EVTX-to-MITRE-Attack samples; with ../shared, the EVTX-ATTACK-SAMPLES set too) are scanned as .evtx
// and as what EvtxECmd writes for them (test/support/evtxecmd.ts follows EvtxECmd's source): every finding must
// come back at the same record, rule and time (UTC, to the 100 ns), with the same verdict, and the report must say
// the events came from EvtxECmd.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Finding, HostResult, ScanReport } from '../src/model.js';
import { readEvtxBuffer, type EvtxProblem } from '../src/parsers/evtx/index.js';
import { exhunt } from './support/cli.js';
import { ecmdCsv, ecmdJson, ecmdRow } from './support/evtxecmd.js';
import { needExternal, VENDORED_EXTERNAL } from './support/external.js';

const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtxecmd-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function evtxUnder(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...evtxUnder(p));
    else if (e.name.endsWith('.evtx')) out.push(p);
  }
  return out.sort();
}

/** Three hosts: the .evtx files, EvtxECmd's CSV of them (KAPE's layout), and its JSON Lines. */
function makeHosts(name: string, files: string[]): { evtx: string; csv: string; json: string; written: Set<string>; rowLines: Map<string, number> } {
  const base = join(dir, name);
  const evtx = join(base, 'evtx');
  const csv = join(base, 'csv', 'EventLogs');
  const json = join(base, 'json', 'EventLogs');
  for (const d of [evtx, csv, json]) mkdirSync(d, { recursive: true });
  const rows = [];
  const written = new Set<string>();
  for (const f of files) {
    copyFileSync(f, join(evtx, basename(f)));
    const problems: EvtxProblem[] = [];
    for (const e of readEvtxBuffer(readFileSync(f), problems)) {
      const row = ecmdRow(e, `C:\\Windows\\System32\\winevt\\Logs\\${basename(f)}`);
      if (!row) continue;
      rows.push(row);
      written.add(`${basename(f)} #${e.record}`);
    }
  }
  const { bytes, rowLines } = ecmdCsv(rows);
  writeFileSync(join(csv, '20240408132435_EvtxECmd_Output.csv'), bytes);
  writeFileSync(join(json, '20240408132435_EvtxECmd_Output.json'), ecmdJson(rows));
  const lines = new Map(rows.map((r, i) => [`${String(r.SourceFile).split('\\').at(-1)} #${r.EventRecordId}`, rowLines[i]]));
  return { evtx, csv: join(base, 'csv'), json: join(base, 'json'), written, rowLines: lines };
}

function scan(input: string): HostResult {
  const out = join(dir, `${input.slice(dir.length).replace(/[^\w-]/g, '_')}.report.json`);
  const r = exhunt(['scan', input, '--json', out, '--jobs', '2', '-q']);
  expect(r.stderr).toBe('');
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

/** "log #record rule time": from the .evtx by its path and record, from EvtxECmd by the evidence it adds. */
function keyed(findings: Finding[], fromEcmd: boolean): string[] {
  return findings
    .map((f) => {
      if (!fromEcmd) return `${basename(f.source.path)} #${f.source.record} ${f.rule} ${f.time}`;
      return `${String(f.evidence.evtxecmd_source_file).split('\\').at(-1)} #${String(f.evidence.event_record_id)} ${f.rule} ${f.time}`;
    })
    .sort();
}

function sameFindings(name: string, files: string[]): { evtx: HostResult; csv: HostResult; json: HostResult; both: HostResult; expected: string[] } {
  const hosts = makeHosts(name, files);
  const evtx = scan(hosts.evtx);
  const expected = keyed(evtx.findings, false).filter((k) => hosts.written.has(k.split(' ').slice(0, -2).join(' ')));
  const csv = scan(hosts.csv);
  const json = scan(hosts.json);
  for (const r of [csv, json]) {
    expect(keyed(r.findings, true)).toEqual(expected);
    expect(r.verdict).toBe(evtx.verdict);
    // Each finding names the export's line, where its row starts.
    for (const f of r.findings) {
      expect(f.source.path).toMatch(/^EventLogs\/20240408132435_EvtxECmd_Output\.(csv|json)$/);
      if (f.source.path.endsWith('.csv')) expect(f.source.line).toBe(hosts.rowLines.get(`${String(f.evidence.evtxecmd_source_file).split('\\').at(-1)} #${String(f.evidence.event_record_id)}`));
    }
  }
  // KAPE output with the .evtx (target) and both exports (module): each event's findings are counted once.
  const both = scan(join(dir, name));
  expect(keyed(both.findings, false)).toEqual(keyed(evtx.findings, false));
  expect(both.verdict).toBe(evtx.verdict);
  return { evtx, csv, json, both, expected };
}

describe('EvtxECmd output (KAPE)', () => {
  it('gives the findings of the .evtx it was made from, at the same record and UTC time, and says where they came from', () => {
    const files = evtxUnder(join(VENDORED_EXTERNAL, 'EVTX-to-MITRE-Attack'));
    const { evtx, csv, json, both, expected } = sameFindings('vendored', files);
    // No finding lost: every event a rule fires on has EventData or UserData, so EvtxECmd writes it.
    expect(expected.length).toBe(evtx.findings.length);
    // Install-TransportAgent (PX-13) and lsassy's comsvcs MiniDump (PX-06) at least.
    expect(expected.map((k) => k.split(' ').at(-2))).toEqual(expect.arrayContaining(['PX-13', 'PX-06']));
    for (const [r, kind] of [[csv, 'CSV'], [json, 'JSON Lines']] as const) {
      const note = r.skipped.find((s) => s.reason.startsWith('read as EvtxECmd output'))?.reason ?? '';
      expect(note).toContain(`read as EvtxECmd output (${kind}): `);
      expect(note).toMatch(/of 8 log\(s\): ID1-LSASS dump with LSASSY \(SYSMON\)\.evtx, /);
      expect(note).toContain('times are UTC as EvtxECmd writes them');
      expect(note).toContain('not in EvtxECmd output: the rendered message');
      expect(r.coverage.map((c) => c.source)).toContain('EVTX MSExchange Management (EvtxECmd)');
    }
    for (const ext of ['csv', 'json']) {
      expect(both.skipped.find((s) => s.path === `${ext}/EventLogs/20240408132435_EvtxECmd_Output.${ext}` && /^\d+ finding/.test(s.reason))?.reason).toBe(
        `${expected.length} finding(s) from this EvtxECmd output are the same events as findings from the .evtx scanned (same rule, event record id and time): reported once, from the .evtx`,
      );
    }
  });

  it('does the same on every .evtx sample in ../shared (EVTX-ATTACK-SAMPLES, evtx-rs samples …)', (ctx) => {
    const root = needExternal(ctx, 'EVTX-ATTACK-SAMPLES');
    const files = evtxUnder(join(root, '..'));
    expect(files.length).toBeGreaterThan(30);
    const { evtx, expected } = sameFindings('shared', files);
    // lsass dumps (PX-06) and IIS web shells (PX-02) in the ATT&CK samples.
    expect(expected.map((k) => k.split(' ').at(-2))).toEqual(expect.arrayContaining(['PX-02', 'PX-06']));
    expect(expected.length).toBe(evtx.findings.length);
  });
});
