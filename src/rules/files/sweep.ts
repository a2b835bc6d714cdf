// The file sweep's decisions as file rules: given what the sweep measured about one file (its path, head bytes,
// probes found while streaming, decoded text, baseline verdict), which file rule ids it reports and how they are
// graded. The sweep itself (src/engine/scanners/files.ts) only reads, hashes and turns these hits into findings.
// Sources: rules.ts (each id's references) and signatures.ts.
import type { EvidenceValue } from '../../model.js';
import type { IocStore } from '../iocs.js';
import { TUNNEL_TOOLS } from '../tools.js';
import type { RuleHit, RuleMeta } from '../types.js';
import { notLiveGrade } from './signatures.js';
import type { BaselineVerdict } from './baselines.js';
import { MAGIC, binaryPage, matchSignatures, shellKeywords, type FileContent } from './content.js';
import { DROP_ZONES, GRADE, UNEXPECTED, type FileRuleId, type Zone } from './rules.js';

/** Extensions the web server runs as pages (content signatures read these whole). */
export const WEB_SCRIPT = new Set(['.aspx', '.ashx', '.asmx', '.asax', '.asp', '.ascx', '.cshtml', '.master', '.svc']);
/** What Exchange (any CU) serves from owa\auth and ecp\auth: pages, scripts, styles, images, fonts, config. */
const SIGN_IN_ASSETS = new Set([...WEB_SCRIPT, '.htm', '.html', '.js', '.css', '.map', '.json', '.png', '.gif', '.jpg', '.jpeg', '.ico', '.svg', '.eot', '.ttf', '.woff', '.woff2', '.config']);
/** Script and markup files of the sign-in folders, compared with the known-good lists like pages (WS-07). */
const SIGN_IN_TEXT = new Set(['.js', '.htm', '.html']);
/** WS-37: a file in the anonymous sign-in folders that is none of those (a dump of captured sign-ins, a staged note). */
const signInData = (f: SweptFile, bl: BaselineVerdict): boolean =>
  // A path in the known-good lists (ClientAccess\owa\auth\owaauth.dll, exppw.dll) is Microsoft's, whatever its type.
  (f.zone === 'owa-auth' || f.zone === 'owa-auth-sub' || f.zone === 'ecp-auth') && !SIGN_IN_ASSETS.has(f.ext) && bl.status === 'unknown-path';
/** A line holding DOMAIN\user or user@domain, a separator and more: a captured sign-in (bounded, linear). */
const CREDENTIAL_LINE = /(?:^|[\s,;|])(?:[\w.-]{1,64}\\[\w.$-]{1,64}|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})[ \t]{0,4}[:;|,\t][ \t]{0,4}\S/m;

/** Zip-based document and package formats: zip magic there is not a staged archive. */
const ZIP_DOCS = new Set(['.docx', '.xlsx', '.pptx', '.docm', '.xlsm', '.pptm', '.dotx', '.jar', '.nupkg', '.vsix', '.appx', '.msix', '.xpi', '.whl', '.odt', '.ods', '.epub', '.apk', '.kmz', '.xps']);
/** ProgramData folders of antivirus and backup agents whose archives are routine (reported low, never hidden). */
const VENDOR_DIRS = [
  'mcafee', 'symantec', 'norton', 'sophos', 'trend micro', 'eset', 'kaspersky lab', 'crowdstrike', 'sentinel', 'carbon black', 'cylance',
  'bitdefender', 'malwarebytes', 'microsoft\\windows defender', 'microsoft\\microsoft antimalware', 'microsoft\\windows defender advanced threat protection',
  'veeam', 'veritas', 'commvault', 'acronis', 'arcserve', 'package cache', 'microsoft\\windows\\wer',
];

/** Byte patterns the sweep looks for while a file streams (minidumps are found by their header). */
export interface Probe {
  name: string;
  bytes: Buffer[];
}
const wide = (s: string) => Buffer.from(s, 'utf16le');
export const PROBES = {
  /** An lsass dump holds lsasrv.dll's name (PX-07). */
  lsass: { name: 'lsasrv.dll', bytes: [wide('lsasrv.dll'), wide('LSASRV.DLL'), Buffer.from('lsasrv.dll')] },
  /** A compiled page names the virtual path it came from (WS-09). */
  appWeb: { name: 'aspnet_client or auth virtual path', bytes: ['~/aspnet_client/', '~/auth/'].flatMap((s) => [Buffer.from(s), wide(s)]) },
} satisfies Record<string, Probe>;

/** What the sweep knows about one file before the rules decide. */
export interface SweptFile {
  /** The path people see (the server's path when the collection records it). */
  shown: string;
  /** Lower-case, drive-less Windows path. */
  win: string;
  name: string;
  ext: string;
  script: boolean;
  zone: Zone | null;
  bytes: number;
  /** The first 64 KiB. */
  head: Buffer;
  minidump: boolean;
  /** Names of the probes whose bytes occur in the file. */
  found: ReadonlySet<string>;
}

/**
 * The per-hit part of a file finding: the grade its rule declares (none = the rule itself) and the detail. Like a
 * record rule's hit, it cannot set its own title, severity or kind.
 */
export type FileHit = Pick<RuleHit, 'summary' | 'grade'> & { evidence?: Record<string, EvidenceValue> };
export interface FileRuleHit {
  rule: FileRuleId | RuleMeta;
  hit: FileHit;
}

/** The web-shell drop zone a path is in (lower-case Windows path, drive-less). */
export function dropZone(win: string): Zone | null {
  const p = '\\' + win;
  const after = (marker: string) => {
    const i = p.lastIndexOf(marker);
    return i < 0 ? null : p.slice(i + marker.length);
  };
  const owa = after('\\httpproxy\\owa\\auth\\') ?? after('\\clientaccess\\owa\\auth\\');
  if (owa !== null) return owa.includes('\\') ? 'owa-auth-sub' : 'owa-auth';
  if (after('\\httpproxy\\ecp\\auth\\') !== null) return 'ecp-auth';
  if (after('\\inetpub\\wwwroot\\aspnet_client\\') !== null) return 'aspnet_client';
  if (after('\\frontend\\httpproxy\\') !== null || after('\\clientaccess\\') !== null) return 'exchange-web';
  if (after('\\inetpub\\wwwroot\\') !== null) return 'wwwroot';
  return null;
}

/** The probes worth running on this file while it streams. */
export function probesFor(f: Pick<SweptFile, 'name'>): Probe[] {
  const probes: Probe[] = [PROBES.lsass];
  if (/^app_web_[a-z0-9]{7,8}\.dll$/.test(f.name)) probes.push(PROBES.appWeb);
  return probes;
}

/** WS-08: the file's SHA-256 is on a published web-shell list. */
export function hashRule(f: SweptFile, sha256: string, iocs: IocStore): FileRuleHit[] {
  const bad = iocs.hashes.get(sha256);
  return bad ? [{ rule: 'WS-08', hit: { summary: `${f.shown}: ${bad.note}`, evidence: { ioc_source: bad.source } } }] : [];
}

/**
 * Content rules: PST / DER headers in a web folder (WS-27, WS-28), then, when the sweep reads the content (`content`,
 * null when the file is too large or binary), a page hidden behind binary bytes (WS-29), the content signatures,
 * applicationHost.config (WS-10), a w3wp ECP crash report (PL-43) and the keyword heuristic (WS-31).
 */
export function contentRules(f: SweptFile, content: FileContent | null, bl: BaselineVerdict): FileRuleHit[] {
  const out: FileRuleHit[] = [];
  const { head } = f;
  if (MAGIC.pst(head) && (f.script || f.zone)) {
    out.push({
      rule: 'WS-27',
      hit: { grade: f.script ? undefined : GRADE.pstNotScript, summary: `${f.shown} starts with the PST header !BDN: New-MailboxExportRequest wrote a mailbox into a web folder` },
    });
  }
  if (MAGIC.der(head) && f.script) {
    out.push({ rule: 'WS-28', hit: { summary: `${f.shown} is a DER certificate request: New-ExchangeCertificate -RequestFile wrote it into a web folder` } });
  }
  if (content === null) return out;
  if (out.length === 0 && binaryPage(head, content)) {
    out.push({ rule: 'WS-29', hit: { summary: `${f.shown}: "Page Language=" after non-text leading bytes (a page smuggled in another format)` } });
  }
  for (const sig of matchSignatures(content, f.bytes)) {
    // A signature in a file the web server would not run (a .txt dump, a script) is evidence, not a live shell.
    const live = f.script || sig.kind !== 'webshell';
    out.push({ rule: sig, hit: { grade: live ? undefined : notLiveGrade(sig), summary: `${f.shown}: ${sig.title}`, evidence: { signature_sources: sig.references } } });
  }
  // Captured credentials only: the plain WS-37 is a path rule, beside the name and staging IOCs (pathRules).
  if (signInData(f, bl) && content.texts().some((t) => CREDENTIAL_LINE.test(t))) {
    out.push({ rule: 'WS-37', hit: { grade: GRADE.signInCredentials, summary: `${f.shown}: a ${f.ext || 'extension-less'} file where Exchange ships only pages and static assets, with lines of user names and secrets` } });
  }
  const strong = out.length > 0;
  const appHost = f.name === 'applicationhost.config' ? appHostConfig(content.texts()[0]) : null;
  if (appHost) out.push(appHost);
  if (f.ext === '.wer' && f.bytes < 8192 && content.texts().some((t) => t.includes('apppath=c:\\windows\\system32\\inetsrv\\w3wp.exe') && t.includes('.value=w3wp#msexchangeecpapppool')))
    out.push({ rule: 'PL-43', hit: { summary: `${f.shown}: w3wp MSExchangeECPAppPool crash report` } });
  if (!strong && !appHost && f.script && bl.status === 'unknown-path') {
    const kws = shellKeywords(content);
    const grade = f.zone && f.zone !== 'exchange-web' ? GRADE.keywordsZone : kws.length >= 2 ? undefined : GRADE.keywordOne;
    if (kws.length > 0) out.push({ rule: 'WS-31', hit: { grade, summary: `${f.shown}: ${kws.join(', ')}`, evidence: { keywords: kws } } });
  }
  return out;
}

/** WS-10: applicationHost.config maps a virtual directory into ProgramData / Users (ProxyShell intrusions). */
function appHostConfig(text: string): FileRuleHit | null {
  const proxyShell = /physicalpath="c:\\(programdata\\(com|who|zing|zoo|xyz|aux|con)\\|users\\all users\\)/.exec(text);
  const hunting = proxyShell ?? /physicalpath="c:\\(programdata|users)\\/.exec(text);
  if (!hunting) return null;
  return { rule: 'WS-10', hit: { grade: proxyShell ? undefined : GRADE.appHostOther, summary: `applicationHost.config: ${hunting[0]}`, evidence: { match: hunting[0] } } };
}

/**
 * Drop-zone, baseline and IOC-name rules. When other rules already reported the file (`reported`), a name IOC is
 * not a finding of its own: its evidence (`attach`) is added to those findings instead.
 */
export function pathRules(f: SweptFile, bl: BaselineVerdict, iocs: IocStore, reported: boolean): { hits: FileRuleHit[]; attach: Record<string, EvidenceValue> } {
  const ioc = nameIoc(f, iocs);
  const iocEv: Record<string, EvidenceValue> = ioc ? { ioc: ioc.what, ioc_source: ioc.source } : {};
  const hits = (...h: FileRuleHit[]) => ({ hits: h, attach: iocEv });
  if (reported) return hits();
  const zone = f.zone;
  // The sign-in page's own scripts (flogon.js, fexppw.js, getidtoken.htm) are compared too: a keylogger lives there.
  const signInScript = (zone === 'owa-auth' || zone === 'owa-auth-sub' || zone === 'ecp-auth') && SIGN_IN_TEXT.has(f.ext);
  if (zone && (f.script || signInScript) && bl.status === 'differs') {
    return hits({
      rule: 'WS-07',
      hit: { summary: `${f.shown}: content is in none of the known-good lists (builds ${bl.builds.join(', ')}); another build, or modified`, evidence: { baseline_builds: bl.builds, ...iocEv } },
    });
  }
  if (zone && f.script) {
    // The title names the zone: in the exchange-web zone WS-07's own title (about modified pages) would not fit.
    const z = DROP_ZONES[zone];
    const summary = `${f.shown}: not one of Microsoft's files${ioc ? `; ${ioc.what}` : ''}`;
    return hits({ rule: z.rule, hit: { grade: 'notShipped' in z ? z.notShipped : undefined, summary, evidence: iocEv } });
  }
  const dataFile = signInData(f, bl);
  if ((zone === 'ecp-auth' || zone === 'aspnet_client') && f.name !== 'web.config' && !dataFile) {
    return hits({ rule: DROP_ZONES[zone].rule, hit: { grade: UNEXPECTED[zone], summary: `${f.shown}: not expected there`, evidence: iocEv } });
  }
  const out: FileRuleHit[] = [];
  if (dataFile) out.push({ rule: 'WS-37', hit: { summary: `${f.shown}: a ${f.ext || 'extension-less'} file where Exchange ships only pages and static assets`, evidence: iocEv } });
  if (ioc && !ioc.genuine) out.push({ rule: 'WS-05', hit: { summary: `${f.shown}: ${ioc.what}`, evidence: iocEv } });
  const staging = hafniumPath(f, iocs);
  if (staging) out.push(staging);
  return hits(...out);
}

function nameIoc(f: SweptFile, st: IocStore): { what: string; source: string; genuine: boolean } | null {
  // Only a path with the file's own name can end like it (f.win ends with f.name).
  for (const e of st.paths.get(f.name) ?? []) if (e.path.endsWith('\\' + f.win) || f.win.endsWith('\\' + e.tail) || f.win === e.tail) return { what: `path ${e.path}`, source: e.source, genuine: false };
  const full = 'c:\\' + f.win;
  const re = f.script ? st.pathRegexes.find((r) => r.re.test(full)) : undefined;
  if (re) return { what: `path pattern ${re.re.source}`, source: re.source, genuine: false };
  const byName = st.fileNames.get(f.name);
  if (byName) return { what: `file name ${f.name}`, source: byName.source, genuine: byName.genuine };
  return null;
}

/** PX-09: HAFNIUM staging paths and tool names (data/iocs/file_artefacts.csv path/substring/regex rows). */
function hafniumPath(f: SweptFile, iocs: IocStore): FileRuleHit | null {
  const full = 'c:\\' + f.win;
  for (const a of iocs.artefacts) {
    const hit =
      (a.kind === 'path' && full.endsWith(a.lower)) ||
      (a.kind === 'substring' && full.includes(a.lower)) ||
      (a.kind === 'regex' && a.re !== null && a.re.test(full));
    if (hit) return { rule: 'PX-09', hit: { summary: `${f.shown}: ${a.what}`, evidence: { ioc: a.value, ioc_source: a.source } } };
  }
  return null;
}

/** Memory dumps (PX-07), archives staged under ProgramData (PX-08), tunnelling tools (PX-19), compiled shell pages (WS-09). */
export function dumpAndArchiveRules(f: SweptFile, rel: string): FileRuleHit[] {
  const out: FileRuleHit[] = [];
  const w = '\\' + f.win;
  if (f.minidump) {
    const lsass = f.name.includes('lsass') || f.found.has(PROBES.lsass.name);
    const staged = /\\(windows\\temp|inetpub|root|users\\public|perflogs)\\/.test(w) || (w.includes('\\programdata\\') && !w.includes('\\microsoft\\windows\\wer\\'));
    out.push({
      rule: 'PX-07',
      hit: {
        // The rule's title and severity are the lsass case; any other process's dump is graded by where it lies.
        grade: lsass ? undefined : staged ? GRADE.dumpStaged : GRADE.dumpOther,
        summary: `${f.shown}: minidump${lsass ? ' of lsass (lsasrv.dll loaded)' : ''}${staged ? ' in a staging folder' : ''}`,
        evidence: { lsass },
      },
    });
  }
  const archiveExt = f.ext === '.7z' || f.ext === '.zip' || f.ext === '.rar';
  const archiveMagic = MAGIC.sevenZip(f.head) || MAGIC.rar(f.head) || (MAGIC.zip(f.head) && !ZIP_DOCS.has(f.ext));
  if (w.includes('\\programdata\\') && (archiveExt || archiveMagic)) {
    const after = w.slice(w.indexOf('\\programdata\\') + 13);
    const vendor = VENDOR_DIRS.find((v) => after.startsWith(v + '\\'));
    out.push({
      rule: 'PX-08',
      hit: {
        grade: vendor ? GRADE.archiveVendor : undefined,
        summary: `${f.shown}: ${archiveExt ? 'archive' : `archive content behind a ${f.ext || 'missing'} extension`}${vendor ? ` (vendor folder ${vendor}: usually routine)` : ''}`,
        evidence: { vendor_path: vendor ?? null, disguised: !archiveExt },
      },
    });
  }
  if (TUNNEL_TOOLS.has(f.name) && (/\\(?:programdata|users\\public|inetpub)\\/.test(w) || f.zone !== null)) {
    out.push({ rule: 'PX-19', hit: { summary: `${rel}: ${f.name}, a tunnelling or remote-access tool, where attackers stage tools` } });
  }
  if (f.found.has(PROBES.appWeb.name))
    out.push({ rule: 'WS-09', hit: { summary: `${f.shown}: compiled from a page under ~/aspnet_client/ or ~/auth/ — survives deletion of the .aspx` } });
  return out;
}
