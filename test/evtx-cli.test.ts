import { describe, expect, it } from 'vitest';
import { exhunt } from './support/cli.js';
import { needExternal } from './support/external.js';

const W3WP = 'EVTX-ATTACK-SAMPLES/Execution/exec_sysmon_webshell_w3wp_enum.evtx';
const BAD_CHUNK = 'evtx-rs-samples/sample_with_a_bad_chunk_magic.evtx';
const TRANSPORT_AGENT = 'EVTX-to-MITRE-Attack/TA0003-Persistence/T1505-Server_Software_Component/ID6-Failed to install an Exchange transport agent.evtx';

describe('exhunt evtx dump (built CLI)', () => {
  it('prints one JSON object per record with the documented keys', (ctx) => {
    const r = exhunt(['evtx', 'dump', needExternal(ctx, W3WP)]);
    expect(r.code).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs[0]).toMatchObject({
      record: 3408,
      time: '2020-08-08T01:36:38.9899186Z',
      eventId: 1,
      level: 4,
      provider: 'Microsoft-Windows-Sysmon',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      computer: 'win10.windomain.local',
      data: { Image: 'C:\\Windows\\System32\\cmd.exe' },
    });
    expect(new Set(recs.map((x) => x.record)).size).toBe(recs.length);
  });

  it('renders event XML with --xml', (ctx) => {
    const r = exhunt(['evtx', 'dump', '--xml', needExternal(ctx, W3WP)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<EventRecordID>3408</EventRecordID>');
    expect(r.stdout).toContain('<Data Name="Image">C:\\Windows\\System32\\cmd.exe</Data>');
  });

  it('salvages a file with damaged chunks, naming each offset on stderr, and still exits 0', (ctx) => {
    const r = exhunt(['evtx', 'dump', needExternal(ctx, BAD_CHUNK)]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(301);
    expect(r.stderr).toMatch(/sample_with_a_bad_chunk_magic\.evtx: offset 4096 \(0x1000\): chunk data checksum mismatch/);
  });

  it('reports unreadable and non-EVTX inputs in one line each, goes on, and exits 2', (ctx) => {
    const r = exhunt(['evtx', 'dump', '/no/such.evtx', 'README.md', needExternal(ctx, TRANSPORT_AGENT)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/no/such.evtx: no such file');
    expect(r.stderr).toContain('README.md: not an event log (.evtx, XML export, event JSON Lines or EvtxECmd output)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(1);
  });
});
