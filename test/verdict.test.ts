import { describe, expect, it } from 'vitest';
import type { Skipped } from '../src/model.js';
import { assessCoverage, hostVerdict } from '../src/engine/verdict.js';
import { compromisedFindings, cov, finding, FULL_COVERAGE, scannedFindings, SINCE } from './support/report-fixtures.js';

describe('hostVerdict', () => {
  it('compromised on exploitation success, with the strongest rules as reasons', () => {
    const v = hostVerdict(compromisedFindings(), FULL_COVERAGE, SINCE);
    expect(v.verdict).toBe('compromised');
    expect(v.reasons[0]).toBe('web shell Exchange/FrontEnd/HttpProxy/owa/auth/shell.aspx is on disk and answered a request with HTTP 2xx');
    // Words first, the rule id in brackets at the end.
    expect(v.reasons.some((r) => /^[^[]+ \[PL-02\]$/.test(r))).toBe(true);
    expect(v.reasons.some((r) => /^[A-Z]{2,3}-\w+( ×\d+)?:/.test(r))).toBe(false);
  });

  it('scanner traffic alone is attempted, never compromised, even when a rule rates it critical', () => {
    const v = hostVerdict(scannedFindings(), FULL_COVERAGE, SINCE);
    expect(v.verdict).toBe('attempted');
    expect(v.reasons[0]).toBe('scanner probes only (2); nothing shows they got in');
    expect(v.reasons[1]).toBe('PL-04 summary (and 1 more like it) [PL-04]');
  });

  it('attempted says when coverage is short', () => {
    const v = hostVerdict(scannedFindings(), [cov('HttpProxy/Owa', 'httpproxy', '2021-03-01T00:00:00Z', '2021-03-10T00:00:00Z')], SINCE);
    expect(v.verdict).toBe('attempted');
    expect(v.reasons.at(-1)).toBe('coverage is incomplete, so earlier or later activity may be missing: HttpProxy/Owa starts 2021-03-01, 59 days after 2021-01-01');
  });

  it('a web shell requested with 200 makes a medium shell finding a compromise', () => {
    const f = [
      finding({ id: 'W', rule: 'WS-03', kind: 'webshell', severity: 'medium', evidence: { file: 'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx' } }),
      finding({ id: 'R', rule: 'PX-R2', kind: 'attempt', severity: 'low', client_ip: '1.1.1.1', evidence: { url: '/aspnet_client/x.aspx', status: 200 } }),
    ];
    expect(hostVerdict(f, FULL_COVERAGE, SINCE).verdict).toBe('compromised');
    // Requested but answered 404: the file did not serve; an attempt with a suspicious file to review.
    const missed = [f[0], { ...f[1], evidence: { url: '/aspnet_client/x.aspx', status: 404 } }];
    const v = hostVerdict(missed, FULL_COVERAGE, SINCE);
    expect(v.verdict).toBe('attempted');
    expect(v.reasons).toContain('also 1 suspicious finding(s) to review');
  });

  it('suspicious for indicator matches and weak shell findings alone', () => {
    const v = hostVerdict([finding({ id: 'I', rule: 'PL-15', kind: 'ioc', severity: 'medium', summary: 'attacker IP 1.2.3.4' })], FULL_COVERAGE, SINCE);
    expect(v).toEqual({ verdict: 'suspicious', reasons: ['attacker IP 1.2.3.4 [PL-15]'] });
  });

  it('clean only when nothing was found and web logs cover since → newest evidence; info findings do not count', () => {
    const info = [finding({ id: 'X', rule: 'PX-08', kind: 'post-exploitation', severity: 'info' }), finding({ id: 'B', rule: 'BUILD', kind: 'exposure', severity: 'high' })];
    const v = hostVerdict(info, FULL_COVERAGE, SINCE);
    expect(v.verdict).toBe('clean');
    expect(v.reasons[0]).toBe('no sign of an attack; HttpProxy/Ecp 2020-12-01 → 2021-03-10, IIS W3SVC1 2020-11-20 → 2021-03-10 cover the window from 2021-01-01 to the newest evidence (2021-03-10)');
  });

  it('clean names the web sources that are shorter than the window', () => {
    const v = hostVerdict([], [...FULL_COVERAGE, cov('HttpProxy/Owa', 'httpproxy', '2021-02-01T00:00:00Z', '2021-03-10T00:00:00Z')], SINCE);
    expect(v.verdict).toBe('clean');
    expect(v.reasons[1]).toBe('shorter sources: HttpProxy/Owa 2021-02-01 → 2021-03-10');
  });

  const LOGS = 'the HttpProxy logs (Exchange Server\\V15\\Logging\\HttpProxy) and IIS logs (inetpub\\logs\\LogFiles)';
  it.each([
    [[], 'no readable logs in the evidence', `to decide it: add ${LOGS} from 2021-01-01 on (older copies: backups, SIEM, log archive) and scan again`],
    [
      [cov('EVTX Application', 'evtx', '2020-01-01T00:00:00Z', '2021-03-10T00:00:00Z')],
      'no HttpProxy or IIS logs in the evidence (the logs that record exploit requests); only EVTX Application',
      `to decide it: add ${LOGS} from 2021-01-01 on (older copies: backups, SIEM, log archive) and scan again`,
    ],
    [
      [cov('HttpProxy/Ecp', 'httpproxy', '2021-02-20T00:00:00Z', '2021-03-10T00:00:00Z')],
      'HttpProxy/Ecp starts 2021-02-20, 50 days after 2021-01-01',
      `to decide it: add ${LOGS} from 2021-01-01 to 2021-02-20 (backups, SIEM, log archive), or scan again with --since 2021-02-20 to judge only the period these logs cover`,
    ],
    [
      [cov('IIS W3SVC1', 'iis', '2020-12-01T00:00:00Z', '2021-01-15T00:00:00Z'), cov('EVTX System', 'evtx', '2020-12-01T00:00:00Z', '2021-03-10T00:00:00Z')],
      'IIS W3SVC1 ends 2021-01-15, 54 days before the newest evidence (2021-03-10)',
      `to decide it: add ${LOGS} from 2021-01-15 to 2021-03-10 (the newest evidence) and scan again`,
    ],
    [[cov('HttpProxy/Ecp', 'httpproxy', null, null)], 'HttpProxy/Ecp: 3 file(s) but no dated records', `to decide it: add ${LOGS} from 2021-01-01 on (older copies: backups, SIEM, log archive) and scan again`],
  ])('insufficient-evidence says what is missing and what would decide it (%#)', (coverage, why, decide) => {
    expect(hostVerdict([], coverage, SINCE)).toEqual({ verdict: 'insufficient-evidence', reasons: [`no sign of an attack, but that proves little: ${why}`, decide] });
  });

  it('assessCoverage reports the newest evidence time', () => {
    expect(assessCoverage(FULL_COVERAGE, SINCE).end).toBe('2021-03-10T23:59:00.000Z');
  });
});

describe('hostVerdict, evidence that was not read at all', () => {
  const clean = () => hostVerdict([], FULL_COVERAGE, SINCE);
  const unread = (skipped: Skipped[]) => hostVerdict([], FULL_COVERAGE, SINCE, {}, undefined, { skipped });

  it('a disk image, the archive the evidence came in or a web log not read keeps the host from clean, and is named', () => {
    expect(clean().verdict).toBe('clean');
    for (const s of [
      { path: 'kape/2026-12-01T101010_mail01.vhdx', reason: 'VHDX disk image', unread: 'image' },
      { path: 'triage.zip', reason: 'zip not readable', unread: 'archive' },
      { path: 'collection.zip/logs.7z', reason: 'archive inside an archive', unread: 'archive' },
      { path: 'C/inetpub/logs/LogFiles/W3SVC1/u_ex2103.7z', reason: '7z archive', unread: 'archive' },
      { path: 'inetpub/logs/LogFiles/W3SVC2/u_ex210302.log', reason: 'not readable: EACCES', unread: 'file' },
      { path: 'V15/Logging/HttpProxy/Ecp/HttpProxy_2021030212-1.LOG', reason: 'not readable: EIO', unread: 'file' },
      { path: 'inetpub/logs/LogFiles', reason: 'folder not readable: EACCES', unread: 'folder' },
    ] satisfies Skipped[]) {
      const v = unread([s]);
      expect(v.verdict, s.path).toBe('insufficient-evidence');
      expect(v.reasons[0], s.path).toBe(`no sign of an attack in what was read, but 1 image(s), archive(s) or web log(s) were not read at all (see skipped for why and how to read them): ${s.path}`);
    }
  });

  it('other unread files leave clean standing and are named; parts of files read and date skips do not count', () => {
    const v = unread([
      { path: 'V15/Mailbox/DB1/DB1.edb', reason: 'not readable, checked by path only: EBUSY', unread: 'file' },
      { path: 'V15/Logging/Diagnostics', reason: 'folder not readable: EACCES', unread: 'folder' },
      // An AV agent's own archive in the server's tree: not the evidence's packaging.
      { path: 'C/ProgramData/McAfee/Agent/AgentEvents/engmin.zip', reason: 'zip not readable', unread: 'archive' },
      { path: 'inetpub/logs/LogFiles/W3SVC1/u_ex210301.log', reason: 'bad line', line: 7 },
      { path: 'inetpub/logs/LogFiles/W3SVC1/u_ex200101.log', reason: 'skipped by date: before --since; not read' },
    ]);
    expect(v.verdict).toBe('clean');
    expect(v.reasons.slice(0, -1)).toEqual(clean().reasons);
    expect(v.reasons.at(-1)).toBe('3 other file(s) or folder(s) could not be read (see skipped): V15/Mailbox/DB1/DB1.edb, V15/Logging/Diagnostics, C/ProgramData/McAfee/Agent/AgentEvents/engmin.zip');
  });

  it('a verdict other than clean is not changed by what was not read', () => {
    const v = hostVerdict(scannedFindings(), FULL_COVERAGE, SINCE, {}, undefined, { skipped: [{ path: 'triage.zip', reason: 'zip not readable', unread: 'archive' }] });
    expect(v).toEqual(hostVerdict(scannedFindings(), FULL_COVERAGE, SINCE));
  });
});
