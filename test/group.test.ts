// Many findings of one kind on one host collapse into one counted row (src/engine/group.ts): the count, the first
// and last samples in report order, the folder they share, the client IPs; below the threshold nothing changes.
import { describe, expect, it } from 'vitest';
import { FindingGrouper, GROUP_AT, GROUP_SAMPLES } from '../src/engine/group.js';
import type { RawFinding } from '../src/model.js';
import type { EvidenceFile } from '../src/evidence/file.js';

function shell(i: number): RawFinding {
  const name = `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}.aspx`;
  return {
    rule: 'WS-01',
    title: 'Script that Exchange does not ship in inetpub\\wwwroot\\aspnet_client (normally empty)',
    cves: [],
    severity: 'high',
    kind: 'webshell',
    time: `2021-03-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`,
    client_ip: null,
    source: { path: `C/inetpub/wwwroot/aspnet_client/system_web/${name}` },
    summary: `${name} in aspnet_client`,
    evidence: { file: `C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\${name}` },
    lane: 'Files',
    stage: 'persistence',
  };
}

function probe(i: number): RawFinding {
  return { ...shell(i), rule: 'PL-04', title: 'ProxyLogon scanner probe', kind: 'scan', stage: 'scanned', lane: 'HttpProxy', severity: 'low', client_ip: `203.0.113.${i % 7}`, source: { path: 'Logging/HttpProxy/Owa/HttpProxy_2021030715-1.LOG', line: i + 6 }, evidence: {} };
}

describe('grouping findings of one kind', () => {
  it(`keeps up to ${GROUP_AT} findings of a kind as they are`, () => {
    const g = new FindingGrouper();
    for (let i = 0; i < GROUP_AT; i++) g.add(shell(i));
    const out = g.findings();
    expect(out).toHaveLength(GROUP_AT);
    expect(out.every((f) => f.group === undefined)).toBe(true);
  });

  it('collapses more into one row: count, first and last in report order, shared folder, IPs', () => {
    const g = new FindingGrouper();
    const all = Array.from({ length: 5000 }, (_, i) => shell(i));
    // Arrival order is not report order (workers finish files in any order).
    for (const f of [...all].reverse()) g.add(f);
    for (let i = 0; i < 30; i++) g.add(probe(i));
    const out = g.findings();
    expect(out).toHaveLength(31);
    const row = out.find((f) => f.rule === 'WS-01')!;
    expect(row.group?.count).toBe(5000);
    expect(row.group?.folder).toBe('C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\');
    expect(row.group?.first_time).toBe('2021-03-01T00:00:00.000Z');
    expect(row.group?.last_time).toBe('2021-03-28T00:00:00.000Z');
    const order = [...all].sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : a.source.path < b.source.path ? -1 : 1));
    expect(row.group?.first.map((s) => s.source.path)).toEqual(order.slice(0, GROUP_SAMPLES).map((f) => f.source.path));
    expect(row.group?.last.map((s) => s.source.path)).toEqual(order.slice(-GROUP_SAMPLES).reverse().map((f) => f.source.path));
    expect(row.source).toEqual(order[0].source);
    expect(row.summary).toMatch(/^5,000 findings of this kind from 2021-03-01T00:00:00.000Z to 2021-03-28T00:00:00.000Z under C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\ \(grouped; first: /);
  });

  it('counts client IPs of a collapsed kind', () => {
    const g = new FindingGrouper();
    for (let i = 0; i < 700; i++) g.add(probe(i));
    const [row] = g.findings();
    expect(row.group?.count).toBe(700);
    expect(row.group?.distinct_ips).toBe(7);
    expect(row.group?.client_ips[0]).toEqual({ ip: '203.0.113.0', count: 100 });
    expect(row.group?.folder).toBe('Logging/HttpProxy/Owa/');
  });

  it('merges kinds collapsed in each file scan exactly as if every finding had come to the host', () => {
    // Log files of a flood as worker results: some files under the threshold (whole findings), some over (collapsed
    // kinds), two kinds, two folders, results cloned as across a worker boundary and arriving in any order.
    const files = [40, 3000, 7, 250, 101, 60, 1200].map((n, k) => {
      const rel = `Logging/HttpProxy/${k % 2 ? 'Owa' : 'Ecp'}/HttpProxy_2021030${k}15-1.LOG`;
      const made = Array.from({ length: n }, (_, i) => {
        const f = probe(i * 7 + k);
        return { ...f, source: { path: rel, line: i + 6 }, time: `2021-03-0${1 + (i % 7)}T${String(k).padStart(2, '0')}:00:00.000Z`, ...(i % 3 ? {} : { title: 'ProxyLogon scanner probe (other)' }) };
      });
      return { file: { rel, server: `C:\\Exchange\\${rel.replace(/\//g, '\\')}` } as EvidenceFile, made };
    });
    const direct = new FindingGrouper();
    const merged = new FindingGrouper();
    for (const { file, made } of [...files].reverse()) {
      const own = new FindingGrouper(file);
      for (const f of made) {
        own.add(f);
        direct.add({ ...f, source: { ...f.source, server_path: file.server } });
      }
      const { findings, groups } = structuredClone(own.parts());
      for (const f of findings) merged.add(f);
      for (const g of groups) merged.addGroup(g);
    }
    const rows = merged.findings();
    expect(rows).toEqual(direct.findings());
    expect(rows.map((f) => f.group?.count)).toEqual([1555, 3103]);
    expect(rows[0].group?.folder).toBe('C:\\Exchange\\Logging\\HttpProxy\\');
  });
});
