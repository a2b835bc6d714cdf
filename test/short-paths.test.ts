// 8.3 short names in evidence paths. A command line, a script block or a Sysmon event may name a folder by its
// short name (`C:\PROGRA~1\MICROS~1\EXCHAN~1\V15\FRONTE~1\HTTPPR~1\owa\auth\x.aspx`: cmd.exe completion, `dir /x`,
// a tool given the short path); the path rules must see the Exchange web folders there too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { longFolderNames } from '../src/rules/matchers.js';
import { webTarget } from '../src/rules/cmdlets.js';
import { OABGEN_RULES } from '../src/rules/ecp.js';
import { OabGeneratorParser } from '../src/parsers/exchange.js';
import { applyRules } from '../src/rules/finding.js';
import { builtinIocs } from '../src/rules/iocs.js';
import type { RawFinding } from '../src/engine/types.js';
import { exhunt } from './support/cli.js';

const SHORT_FRONT = 'C:\\PROGRA~1\\MICROS~1\\EXCHAN~1\\V15\\FRONTE~1\\HTTPPR~1';
/** The same path where Program Files holds more than four MICROS* folders (MI3F2A~1), and so on down. */
const HASHED_FRONT = 'C:\\PROGRA~1\\MI3F2A~1\\EXCHAN~1\\V15\\FR3C1E~1\\HT9A4F~1';

/** One event as evtx_dump `-o jsonl` writes it. */
function event(id: number, provider: string, channel: string, time: string, record: number, data: Record<string, string | number>): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: provider } },
        EventID: id,
        Level: 4,
        TimeCreated: { '#attributes': { SystemTime: time } },
        EventRecordID: record,
        Channel: channel,
        Computer: 'EXCH01.corp.local',
      },
      EventData: data,
    },
  });
}

function scan(lines: string[]): { verdict: string; findings: Array<{ rule: string; severity: string; summary: string }> } {
  const dir = mkdtempSync(join(tmpdir(), 'exhunt-short-'));
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  const r = exhunt(['scan', dir, '--json', '-']);
  return JSON.parse(r.stdout).hosts[0];
}

describe('8.3 short folder names', () => {
  it('written out long for the Exchange and IIS web folders, by their parent folder', () => {
    expect(longFolderNames(`${SHORT_FRONT}\\owa\\auth\\x.aspx`)).toBe('C:\\PROGRA~1\\MICROS~1\\EXCHAN~1\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx');
    expect(longFolderNames('D:\\Exchange\\V15\\CLIENT~2\\ecp\\x.aspx')).toBe('D:\\Exchange\\V15\\ClientAccess\\ecp\\x.aspx');
    expect(longFolderNames('c:/inetpub/wwwroot/ASPNET~1/s.aspx')).toBe('c:/inetpub/wwwroot/aspnet_client/s.aspx');
    // Another folder whose short name starts the same way, elsewhere: left as it is.
    expect(longFolderNames('C:\\CLIENT~1\\FRONTE~1\\x.aspx')).toBe('C:\\CLIENT~1\\FRONTE~1\\x.aspx');
    expect(longFolderNames('C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\HTTPPR~1')).toBe('C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\HTTPPR~1');
  });

  it("Windows' hashed short form (two letters, four hex digits of a hash, ~n: after four names share six letters) too", () => {
    expect(longFolderNames(`${HASHED_FRONT}\\owa\\auth\\x.aspx`)).toBe('C:\\PROGRA~1\\MI3F2A~1\\EXCHAN~1\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx');
    expect(longFolderNames('D:\\Exchange\\V15\\CL0B7D~1\\ecp\\x.aspx')).toBe('D:\\Exchange\\V15\\ClientAccess\\ecp\\x.aspx');
    expect(longFolderNames('c:/inetpub/wwwroot/AS5E21~2/s.aspx')).toBe('c:/inetpub/wwwroot/aspnet_client/s.aspx');
    // Not under the folder's parent, or another pair of letters, or not hex: as it was.
    expect(longFolderNames('C:\\Users\\x\\FR3C1E~1\\a.aspx')).toBe('C:\\Users\\x\\FR3C1E~1\\a.aspx');
    expect(longFolderNames('D:\\Exchange\\V15\\LO3C1E~1\\a.log')).toBe('D:\\Exchange\\V15\\LO3C1E~1\\a.log');
    expect(longFolderNames('D:\\Exchange\\V15\\FRXYZW~1\\a.aspx')).toBe('D:\\Exchange\\V15\\FRXYZW~1\\a.aspx');
  });

  it('a mailbox export to the front end named by short names is the ProxyShell drop, not the admin workflow', () => {
    expect(webTarget(`\\\\EXCH01\\c$${SHORT_FRONT.slice(2)}\\owa\\auth\\mail.pst`)).toBe('an Exchange web folder');
    expect(webTarget('\\\\EXCH01\\c$\\PROGRA~1\\MICROS~1\\EXCHAN~1\\V15\\CLIENT~1\\ecp\\mail.pst')).toBe('an Exchange web folder');
    expect(webTarget('\\\\FILES01\\pst$\\EXPORT~1\\mail.pst')).toBeNull();
  });

  it('the OAB generator writing into ClientAccess\\OAB named by short names is its own folder (no PL-30)', () => {
    const p = new OabGeneratorParser('oab.log');
    const hits = (line: string): RawFinding[] => {
      const out: RawFinding[] = [];
      applyRules(OABGEN_RULES, p.parse(line, 1)!, out, { iocs: builtinIocs() });
      return out;
    };
    expect(hits("2021-03-03T07:00:00.000Z Download failed and temporary file 'C:\\PROGRA~1\\MICROS~1\\EXCHAN~1\\V15\\CLIENT~1\\OAB\\Temp\\oab1.tmp' needs to be removed")).toHaveLength(0);
    expect(hits(`2021-03-03T07:00:00.000Z Download failed and temporary file '${SHORT_FRONT}\\owa\\auth\\a.aspx' needs to be removed`)).toHaveLength(1);
  });

  it('end to end: Sysmon 11 of w3wp.exe writing a page into FRONTE~1\\HTTPPR~1\\owa\\auth, and an export there from a script block', () => {
    const sysmon = event(11, 'Microsoft-Windows-Sysmon', 'Microsoft-Windows-Sysmon/Operational', '2021-03-03T04:12:33.123456Z', 1201, {
      RuleName: '-',
      UtcTime: '2021-03-03 04:12:33.120',
      ProcessId: 7824,
      Image: 'c:\\windows\\system32\\inetsrv\\w3wp.exe',
      TargetFilename: `${SHORT_FRONT}\\owa\\auth\\errorFE.aspx`,
      CreationUtcTime: '2021-03-03 04:12:33.120',
    });
    const script = event(4104, 'Microsoft-Windows-PowerShell', 'Microsoft-Windows-PowerShell/Operational', '2021-08-14T02:10:05.000000Z', 88, {
      MessageNumber: 1,
      MessageTotal: 1,
      ScriptBlockText: `New-MailboxExportRequest -Mailbox ceo@corp.local -FilePath "\\\\EXCH01\\c$${SHORT_FRONT.slice(2)}\\owa\\auth\\mail.pst"`,
      ScriptBlockId: '{5a0c4e7e-3f0b-4f6e-9d55-8f1f0c2b7a11}',
    });
    const host = scan([sysmon, script]);
    expect(host.verdict).toBe('compromised');
    const got = host.findings.map((f) => [f.rule, f.severity]).sort();
    expect(got).toEqual([
      ['PS-08', 'critical'],
      ['PX-11', 'critical'],
    ]);
  });

  it('end to end: Sysmon 11 of w3wp.exe writing a page under hashed short names is PX-11 as under the long ones', () => {
    const sysmon = event(11, 'Microsoft-Windows-Sysmon', 'Microsoft-Windows-Sysmon/Operational', '2021-03-03T04:12:33.123456Z', 1201, {
      RuleName: '-',
      UtcTime: '2021-03-03 04:12:33.120',
      ProcessId: 7824,
      Image: 'c:\\windows\\system32\\inetsrv\\w3wp.exe',
      TargetFilename: `${HASHED_FRONT}\\owa\\auth\\errorFE.aspx`,
      CreationUtcTime: '2021-03-03 04:12:33.120',
    });
    const host = scan([sysmon]);
    expect(host.findings.map((f) => [f.rule, f.severity])).toEqual([['PX-11', 'critical']]);
    expect(host.verdict).toBe('compromised');
  });
});
