// WS-07 compares Exchange's web pages with the known-good lists exhunt ships (CSS-Exchange baselines of three
// 2020-2021 builds). On a server at a later CU (2016 CU23, 2019 CU14/CU15, SE: the builds still in service) its own
// pages can differ from every list, and a later CU ships files the lists never name: that is not evidence of a
// modified page. When the newest build in the evidence is a CU no list covers, WS-07 is graded low ("worth a
// look") and says so; content signatures and web-shell rules still judge the same files. With no build in the
// evidence (an install tree copied without logs), a CU folder full of the CU's static files names it for the static
// scripts; the pages the web server runs keep their grade (a folder name proves nothing about a page).
import type { RawFinding } from '../../model.js';
import { compareBuild, formatBuild, parseBuild, type Build } from '../../builds/parse.js';
import { buildEvidence, type BuildEvidence } from '../exposure.js';
import { meaningOf } from '../finding.js';
import type { HostRule } from '../host.js';
import { baseline, exchangeRelPath } from './baselines.js';
import { WEB_SCRIPT } from './sweep.js';
import { evidenceString } from '../../semantics.js';
import { FILE_RULES } from './rules.js';

export const OTHER_BUILD_GRADE = 'WS-07 other build';

/** The highest build the evidence shows: the files on disk are those of the last update installed. */
function newestBuild(facts: Parameters<typeof buildEvidence>[0]): BuildEvidence | null {
  return buildEvidence(facts).reduce<BuildEvidence | null>((a, e) => (a === null || compareBuild(e.build, a.build) > 0 ? e : a), null);
}

/** Is `b`'s CU one of the listed builds' CUs? (An SU rarely changes pages: the same CU counts as covered.) */
function covered(b: ServerBuild, lists: readonly string[]): boolean {
  return lists.some((s) => {
    const l = parseBuild(s);
    return l !== null && l.major === b.build.major && l.minor === b.build.minor && l.build === b.build.build;
  });
}

/** The server's build and where the evidence shows it. */
type ServerBuild = { build: Build; origin: string; folder?: true };

/** A CU's own folder in the install tree: `owa\auth\15.2.1544\…`, `ecp\15.2.1544\…` (static files of that CU). */
const BUILD_FOLDER = /[\\/](?:owa[\\/]auth|ecp)[\\/](1[45]\.\d{1,2}\.\d{1,5})[\\/]/i;
/**
 * Files a CU folder must hold, by the names Microsoft ships in such folders (images, fonts, styles, scripts: 41 under
 * owa\auth\<build> alone), to name the server's build: owa\auth is the attacker's drop zone, and a folder they make
 * with a few files in it names nothing (review9 F11: three planted scripts talked every modified page down).
 */
const FOLDER_FILES = 10;

/**
 * With no build in the evidence (a copy of the install tree without logs), the newest CU folder that holds the CU's
 * shipped static files in number and is among the fullest such folders (setup keeps earlier CUs' folders beside
 * the current one, as full): a later CU than any list makes its scripts differ.
 */
function folderBuild(paths: readonly string[]): ServerBuild | null {
  const shipped = baseline().paths;
  const count = new Map<string, number>();
  for (const p of paths) {
    const m = BUILD_FOLDER.exec(p);
    const rel = m ? exchangeRelPath(p) : null;
    if (m && rel !== null && shipped.has(rel)) count.set(m[1], (count.get(m[1]) ?? 0) + 1);
  }
  const fullest = Math.max(0, ...count.values());
  let best: ServerBuild | null = null;
  for (const [folder, n] of count) {
    const build = n >= FOLDER_FILES && n * 2 >= fullest ? parseBuild(folder, { cuOnly: true }) : null;
    if (build && (best === null || compareBuild(build, best.build) > 0)) best = { build, origin: `its ${folder} folder under owa\\auth or ecp in the install tree, with ${n} of the CU's static files`, folder: true };
  }
  return best;
}

/**
 * A shipped page whose content differs (it carries baseline_builds). A script that is in no list at all is not one
 * of Microsoft's files on any build, and keeps its grade.
 */
const differingPage = (f: RawFinding): boolean => f.rule === 'WS-07' && f.evidence.baseline_builds !== undefined;

/**
 * A file in a CU's own folder (`owa\\auth\\15.2.792\\…`, `ecp\\15.2.792\\…`) is that CU's: setup leaves earlier CUs'
 * folders as they were. When a list covers that CU, the file was compared with its own CU's and differs, whatever
 * build the server runs now or another folder names (review10 R15: a copy of the CU8 folder under 15.2.9999 made
 * CU8's modified flogon.js, where the OWA sign-in keylogger hooks, "another build's file").
 */
function inCoveredFolder(f: RawFinding, lists: readonly string[]): boolean {
  const m = BUILD_FOLDER.exec(evidenceString(f.evidence.file) ?? f.source.path);
  const build = m ? parseBuild(m[1], { cuOnly: true }) : null;
  return build !== null && covered({ build, origin: '' }, lists);
}

/** A page the web server runs (.aspx, .ashx, .asmx …), not a static script or style. */
function isPage(f: RawFinding): boolean {
  const path = evidenceString(f.evidence.file) ?? f.source.path;
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 && WEB_SCRIPT.has(name.slice(dot).toLowerCase());
}

export const BASELINE_BUILD: HostRule = {
  emits: [],
  does: "Grades WS-07 low when the newest build in the evidence (else the newest full CU folder of the install tree, for static scripts only) is a CU that no shipped known-good list covers: its own files are expected to differ. A file in the own folder of a CU a list covers (owa\\auth\\15.2.792\\) is that CU's and keeps its grade.",
  apply(findings, ctx) {
    if (!findings.some(differingPage)) return [...findings];
    const lists = baseline().builds;
    const fact = newestBuild(ctx.facts);
    const newest: ServerBuild | null = fact ? { build: fact.build, origin: fact.fact.origin } : folderBuild(ctx.paths);
    if (newest === null) {
      // Compared with every list and in none: modified, or a build no list covers. Which one, the evidence cannot say.
      const unknown = "; the server's build is not in the evidence, so exhunt cannot tell a modified page from another build's (add ExSetup.exe, the logs or the case manifest to the evidence)";
      return findings.map((f): RawFinding => (differingPage(f) ? { ...f, summary: f.summary + unknown } : f));
    }
    if (covered(newest, lists)) return [...findings];
    const m = meaningOf(FILE_RULES['WS-07'], OTHER_BUILD_GRADE);
    const build = formatBuild(newest.build);
    const why = `; the server runs ${build} (${newest.origin}) and exhunt has no known-good list for that CU (lists: ${lists.join(', ')}): compare the file with the same file on a clean server of that build`;
    // Named in the verdict's reasons (engine/verdict.ts): what these files hold was not checked against Microsoft's.
    const notCompared = `no known-good list for build ${build}`;
    // A folder name is the attacker's to choose, and a page is where a backdoor goes: a folder-named build talks down
    // the CU's differing static scripts, never a page the web server runs.
    const vouch = `; the install tree's CU folders say ${build} (${newest.origin}), for which exhunt has no known-good list, but a folder name does not vouch for a page the web server runs: compare it with the same page on a clean server of that build, or add ExSetup.exe or the logs to the evidence`;
    return findings.map((f): RawFinding => {
      if (!differingPage(f) || inCoveredFolder(f, lists)) return f;
      if (newest.folder && isPage(f)) return { ...f, summary: f.summary + vouch, evidence: { ...f.evidence, server_build: build } };
      return { ...f, title: m.title, severity: m.severity, kind: m.kind, summary: f.summary + why, evidence: { ...f.evidence, server_build: build, baseline_builds: lists, not_compared: notCompared } };
    });
  },
};
