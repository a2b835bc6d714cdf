// End-to-end: the evtx scanner over the real public samples (binary .evtx and XML exports built from published
// event text) must give the expected findings, and benign logs none.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../src/rules/ruleset.js';
import { evtxScanner, toLogRecord } from '../src/engine/scanners/evtx.js';
import type { FileScanResult } from '../src/engine/types.js';
import { readHead, type EvidenceFile } from '../src/evidence/file.js';
import { EVTX_RULES } from '../src/rules/evtx.js';
import { needExternal } from './support/external.js';

const OPTIONS = { since: '2020-01-01T00:00:00Z', iocFiles: [], yaraRules: null };

function fsFile(abs: string, rel = abs.split('/').pop()!): EvidenceFile {
  const st = statSync(abs);
  return { kind: 'fs', abs, rel, size: st.size, mtimeMs: st.mtimeMs };
}

async function scan(abs: string): Promise<FileScanResult> {
  const file = fsFile(abs);
  const format = evtxScanner.classify(file, await readHead(file));
  expect(typeof format).toBe('string');
  return evtxScanner.scan(file, format as string, OPTIONS, defaultRuleSet());
}

/** rule id -> the records it fired on */
function hits(r: FileScanResult): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const f of r.findings) (out[f.rule] ??= []).push(f.source.record!);
  return out;
}

const ATTACK = 'EVTX-ATTACK-SAMPLES';
const MITRE = 'EVTX-to-MITRE-Attack';
const RS = 'evtx-rs-samples';

describe('evtx scanner on real samples', () => {
  const expected: Array<[string, Record<string, number[]>]> = [
    [`${ATTACK}/Execution/exec_sysmon_webshell_w3wp_enum.evtx`, { 'PX-02': [3408, 3410, 3416] }],
    [`${ATTACK}/Lateral_Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx`, { 'PX-02': [1044] }],
    [`${ATTACK}/Credential_Access/sysmon_10_1_memdump_comsvcs_minidump.evtx`, { 'PX-06': [32154] }],
    [`${ATTACK}/Credential_Access/CA-OST_lsassy_comsvcdll_LOLB_LSASSDumping.evtx`, { 'PX-06': [2288163, 2288201] }],
    [`${ATTACK}/Credential_Access/sysmon_rdrleakdiag_lsass_dump.evtx`, { 'PX-06': [5226] }],
    [`${MITRE}/TA0006-Credential_Access/T1003-Credential_dumping/ID1-LSASS dump with LSASSY (SYSMON).evtx`, { 'PX-06': [71668, 71671, 71673] }],
    [`${MITRE}/TA0006-Credential_Access/T1003-Credential_dumping/ID4688-4663-4656-LSASS dump with LSASSY (process).evtx`, { 'PX-06': [67747, 67790] }],
    [`${MITRE}/TA0003-Persistence/T1505-Server_Software_Component/ID6-Failed to install an Exchange transport agent.evtx`, { 'PX-13': [7184, 7185] }],
    // Benign or out of scope: no findings.
    [`${ATTACK}/Privilege_Escalation/privexchange_dirkjan.evtx`, {}],
    [`${ATTACK}/Command_and_Control/tunna_iis_rdp_smb_tunneling_sysmon_3.evtx`, {}],
    [`${MITRE}/Antivirus/ID1116-1117-Defender threat detected.evtx`, {}], // Mimikatz: not an Exchange threat
    [`${RS}/MSExchange_Management_wec.evtx`, {}], // Set-Mailbox forwarding
    [`${RS}/security.evtx`, {}],
    [`${RS}/sysmon.evtx`, {}],
    [`${RS}/system.evtx`, {}],
  ];
  for (const [rel, want] of expected) {
    it(`${rel.split('/').pop()}: ${JSON.stringify(want)}`, async (ctx) => {
      expect(hits(await scan(needExternal(ctx, rel)))).toEqual(want);
    });
  }

  it('Exchange web-worker children are graded by app pool (DefaultAppPool is not Exchange)', async (ctx) => {
    const r = await scan(needExternal(ctx, `${ATTACK}/Execution/exec_sysmon_webshell_w3wp_enum.evtx`));
    const f = r.findings[0];
    expect(f.severity).toBe('high');
    expect(f.evidence.app_pool).toBe('DefaultAppPool');
    expect(f.evidence.command_line).toBe('"c:\\windows\\system32\\cmd.exe" /c whoami');
    expect(f.evidence.parent_process).toMatch(/w3wp\.exe$/i);
    expect(f.source).toEqual({ path: 'exec_sysmon_webshell_w3wp_enum.evtx', record: 3408 });
    expect(f.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });

  it('coverage per channel and damaged chunks in skipped', async (ctx) => {
    const r = await scan(needExternal(ctx, `${RS}/sample-with-zero-data-size-event.evtx`));
    expect(r.coverage).toEqual([
      { source: 'EVTX System', format: 'evtx', files: 1, records: 449, first: expect.any(String), last: expect.any(String) },
    ]);
    expect(r.coverage[0].first! < r.coverage[0].last!).toBe(true);
    expect(r.skipped).toContainEqual({ path: 'sample-with-zero-data-size-event.evtx', reason: 'damaged data in chunk, 232 bytes skipped', offset: 6176 });
  });

  it('records a zeroed chunk held are in skipped, with its offset, not lost without a word', async (ctx) => {
    const buf = Buffer.from(readFileSync(needExternal(ctx, `${RS}/security.evtx`)));
    buf.fill(0, 4096 + 13 * 65536, 4096 + 14 * 65536);
    const r = await scan(writeTemp('zeroed-chunk.evtx', buf));
    expect(r.coverage.map((c) => c.records)).toEqual([2261 - 91]);
    expect(r.skipped).toEqual([{ path: 'zeroed-chunk.evtx', offset: 4096 + 13 * 65536, reason: 'a chunk counted by the file header is all zero bytes: 91 records 1149..1239 not readable (damaged or wiped)' }]);
  });

  it('classifies by content, not by name', async (ctx) => {
    const evtx = fsFile(needExternal(ctx, `${RS}/system.evtx`), 'renamed.log');
    expect(evtxScanner.classify(evtx, await readHead(evtx))).toBe('evtx');
    const text = fsFile(needExternal(ctx, 'Qazeer-artefacts.help/extracted/Mapi__HttpProxy_2023010601-1.LOG'), 'Security.evtx');
    expect(evtxScanner.classify(text, await readHead(text))).toBeNull();
  });
});

// XML exports, built from the MSExchange Management event text published in the hamad-she ProxyShell write-up
// (insertion strings separated by a literal "\n", as published).
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

function cmdletEventXml(record: number, values: string[]): string {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange CmdletLogs'/><EventID Qualifiers='16384'>1</EventID><Level>4</Level><Task>1</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2021-08-20T10:00:0${record}.1234567Z'/><EventRecordID>${record}</EventRecordID><Channel>MSExchange Management</Channel><Computer>EX01.example.local</Computer><Security/></System><EventData>${values.map((v) => `<Data>${xmlEscape(v)}</Data>`).join('')}</EventData></Event>`;
}

function writeTemp(name: string, content: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-evtx-'));
  const abs = join(dir, name);
  writeFileSync(abs, content);
  return abs;
}

/** The hamad-she cmdlet lines plus a removal, as one Event Viewer / wevtutil XML document. */
function proxyShellExport(abs: string): string {
  const lines = readFileSync(abs, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim());
  const events = lines.map((l, i) => cmdletEventXml(i + 1, l.split('\\n')));
  const removal = cmdletEventXml(4, ['Remove-MailboxExportRequest', '-Identity \'Hamad@xxxxx.darksys.com\\MailboxExport\' -Confirm "False"']);
  return `<?xml version="1.0" encoding="UTF-16"?>\r\n<Events>\r\n${[...events, removal].join('\r\n')}\r\n</Events>\r\n`;
}

describe('evtx scanner on XML exports', () => {
  const HAMAD = 'hamad-she-proxyshell-writeup/msexchange_management_lines_as_published.txt';
  for (const [encoding, encode] of [
    ['UTF-16LE (Event Viewer "Save as XML")', (doc: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc, 'utf16le')])],
    ['UTF-8 (wevtutil qe /f:xml)', (doc: string) => Buffer.from(doc.replace(/^.*\r\n<Events>\r\n/, '').replace('</Events>', ''), 'utf8')],
  ] as const) {
    it(`ProxyShell cmdlets are found in ${encoding}`, async (ctx) => {
      const r = await scan(writeTemp('proxyshell.xml', encode(proxyShellExport(needExternal(ctx, HAMAD)))));
      expect(hits(r)).toEqual({ 'PS-08': [1, 2], 'PS-10': [3], 'PS-09': [4] });
      const exp = r.findings.find((f) => f.source.record === 1)!;
      expect(exp.evidence.cmdlet).toBe('New-MailboxExportRequest');
      expect(exp.evidence.file).toBe('\\\\\\\\localhost\\\\c$\\\\inetpub\\\\wwwroot\\\\aspnet\\\\p433zrwewrvmcv.aspx');
      // The export into the web root is the ProxyShell drop; the role grant alone is the admin workflow (the host's
      // chain check raises it when it sits next to exploitation).
      expect(exp.severity).toBe('critical');
      expect(r.findings.find((f) => f.source.record === 2)!).toMatchObject({
        severity: 'info',
        summary: 'Role "Mailbox Import Export" assigned to Hamad@xxxxx.darksys.com (MSExchange Management; documented admin workflow, context unless tied to exploitation)',
      });
      expect(r.coverage).toEqual([
        { source: 'EVTX MSExchange Management', format: 'evtx', files: 1, records: 4, first: '2021-08-20T10:00:01.1234567Z', last: '2021-08-20T10:00:04.1234567Z' },
      ]);
    });
  }

  it('a synthetic UM InvalidCastException error (no public sample exists) gives PL-40', async () => {
    const xml = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="MSExchange Unified Messaging"/><EventID Qualifiers="49152">1040</EventID><Level>2</Level><TimeCreated SystemTime="2021-03-02T03:00:00.000Z"/><EventRecordID>77</EventRecordID><Channel>Application</Channel><Computer>EX01</Computer></System><EventData><Data>System.InvalidCastException: Unable to cast object of type 'System.Windows.Data.ObjectDataProvider'</Data></EventData></Event>`;
    const r = await scan(writeTemp('app.xml', Buffer.from(xml)));
    expect(hits(r)).toEqual({ 'PL-40': [77] });
    expect(r.findings[0].time).toBe('2021-03-02T03:00:00.0000000Z');
    // An XML export is events, not a file: its times are event times (the lane used to be guessed from `.xml`).
    expect([r.findings[0].lane, r.findings[0].stage]).toEqual(['Event logs', 'attempted']);
  });
});

describe('EVTX rules metadata', () => {
  it('every rule cites a source and says what it means', () => {
    for (const r of EVTX_RULES) {
      expect(r.id).toMatch(/^(PL|PS|PX)-\d\d$/);
      expect(r.references.length).toBeGreaterThan(0);
      expect(r.description.length).toBeGreaterThan(40);
      expect(r.formats).toContain('evtx');
    }
  });
});

describe('toLogRecord', () => {
  it('renames only EventData names that are real System fields (not Object.prototype members)', () => {
    const r = toLogRecord(
      { record: 1, time: null, eventId: 1, level: 4, provider: 'P', channel: 'C', computer: 'H', data: { Channel: 'x', toString: 'y' }, system: { Channel: 'C' }, xml: [], offset: 0 },
      'a.evtx',
    );
    expect(r.fields).toMatchObject({ 'EventData.Channel': 'x', toString: 'y', Channel: 'C', Message: 'x\ny' });
    expect(Object.hasOwn(r.fields, 'EventData.toString')).toBe(false);
  });
});
