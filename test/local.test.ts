// scan --local: where a Windows Exchange server keeps its evidence (environment, registry, applicationHost.config),
// and what a user is told about live event logs the Event Log service will not share.
import { describe, expect, it } from 'vitest';
import { findLocalEvidence, iisLogFolders, unreadableHint } from '../src/evidence/local.js';
import { exhunt } from './support/cli.js';

const ENV = { SystemDrive: 'C:', SystemRoot: 'C:\\Windows' };
const EXCHANGE = 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\';
// Site defaults as IIS 10 writes them, plus one site moved to another folder.
const APPHOST = `<configuration><system.applicationHost><sites>
  <site name="Default Web Site" id="1"><logFile directory="D:\\IISLogs" /></site>
  <siteDefaults><logFile logFormat="W3C" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" /></siteDefaults>
</sites></system.applicationHost></configuration>`;

describe('scan --local: finding the evidence', () => {
  it('uses ExchangeInstallPath, the IIS log folders of applicationHost.config, inetpub, IIS config, winevt and Defender\'s Support folder', () => {
    const env = { ...ENV, ExchangeInstallPath: EXCHANGE };
    const local = findLocalEvidence('win32', env, () => null, () => true, () => APPHOST)!;
    expect(local.root).toBe('C:\\');
    expect(local.only).toEqual([
      'Program Files\\Microsoft\\Exchange Server\\V15',
      'inetpub\\logs\\LogFiles',
      'inetpub',
      'Windows\\System32\\inetsrv\\config',
      'Windows\\System32\\winevt\\Logs',
      // MPLog-*.log: Defender's detections outlive its event log (real10 leftover).
      'ProgramData\\Microsoft\\Windows Defender\\Support',
      // On another drive: read as part of the same host, named by its drive letter as in a case folder (review9 F7).
      { path: 'D:\\IISLogs', rel: 'D/IISLogs' },
    ]);
    expect(local.notes).toContain('IIS logs: D:\\IISLogs (applicationHost.config logFile directory; not on the system drive C:\\: read as part of this host, named D/IISLogs/…)');
    expect(local.notes[0]).toBe(`Exchange install folder: ${EXCHANGE} (%ExchangeInstallPath%)`);
    expect(local.notes).toContain('Defender support log: C:\\ProgramData\\Microsoft\\Windows Defender\\Support (%ProgramData%)');
    // %ProgramData% where Windows keeps it elsewhere.
    const moved = findLocalEvidence('win32', { ...env, ProgramData: 'C:\\Data\\ProgramData' }, () => null, () => true, () => APPHOST)!;
    expect(moved.only).toContain('Data\\ProgramData\\Microsoft\\Windows Defender\\Support');
  });

  it('falls back to the registry, and says what it did not find', () => {
    const asked: string[] = [];
    const reg = (key: string, value: string) => (asked.push(`${key} ${value}`), 'E:\\Exchange\\V15\\');
    const local = findLocalEvidence('win32', ENV, reg, (p) => !p.includes('winevt'), () => null)!;
    expect(asked).toEqual(['HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup MsiInstallPath']);
    expect(local.notes).toContain('Exchange install folder: E:\\Exchange\\V15\\ (registry ExchangeServer\\v15\\Setup MsiInstallPath; not on the system drive C:\\: read as part of this host, named E/Exchange/V15/…)');
    expect(local.notes).toContain('event logs: C:\\Windows\\System32\\winevt\\Logs does not exist');
    expect(local.only).toEqual(['inetpub\\logs\\LogFiles', 'inetpub', 'Windows\\System32\\inetsrv\\config', 'ProgramData\\Microsoft\\Windows Defender\\Support', { path: 'E:\\Exchange\\V15', rel: 'E/Exchange/V15' }]);
    const none = findLocalEvidence('win32', ENV, () => null, () => true, () => null)!;
    expect(none.notes[0]).toBe('Exchange install folder: not found (registry ExchangeServer\\v15\\Setup MsiInstallPath); is Exchange installed here?');
  });

  it('reads a folder on another drive once, even when it lies inside another one found there', () => {
    const env = { ...ENV, ExchangeInstallPath: 'D:\\Exchange\\V15\\' };
    const apphost = '<site name="Default Web Site" id="1"><logFile directory="D:\\Exchange\\V15\\IISLogs" /></site>';
    const local = findLocalEvidence('win32', env, () => null, () => true, () => apphost)!;
    expect(local.only.filter((f) => typeof f !== 'string')).toEqual([{ path: 'D:\\Exchange\\V15', rel: 'D/Exchange/V15' }]);
  });

  it('reads the default IIS log folder when the config names none', () => {
    expect(iisLogFolders(null, ENV)).toEqual(['C:\\inetpub\\logs\\LogFiles']);
    expect(iisLogFolders(APPHOST, ENV)).toEqual(['D:\\IISLogs', 'C:\\inetpub\\logs\\LogFiles']);
  });

  it('is refused, saying why, off Windows', () => {
    expect(findLocalEvidence('linux', ENV)).toBeNull();
    const r = exhunt(['scan', '--local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^exhunt: --local works only on Windows, on the Exchange server itself \(this is linux\)/);
    expect(exhunt(['scan', '--local', 'examples/evidence/mail02-clean']).stderr).toMatch(/give no PATH/);
  });
});

describe('live event logs', () => {
  it('name the wevtutil export for a locked .evtx, and nothing for other files or errors', () => {
    expect(unreadableHint('Windows/System32/winevt/Logs/Microsoft-Windows-Sysmon%4Operational.evtx', 'EBUSY')).toBe(
      'live event log held open by the Windows Event Log service: export it with  wevtutil epl "Microsoft-Windows-Sysmon/Operational" C:\\exhunt\\Microsoft-Windows-Sysmon%4Operational.evtx  (or run collector\\Collect-ExchangeEvidence.ps1) and scan the copy',
    );
    expect(unreadableHint('Security.evtx', 'EPERM')).toMatch(/wevtutil epl "Security"/);
    expect(unreadableHint('Security.evtx', 'ENOENT')).toBeNull();
    expect(unreadableHint('inetpub/logs/u_ex210303.log', 'EBUSY')).toBeNull();
  });
});
