// WS-07 compares Exchange's web pages with the known-good lists exhunt ships (CSS-Exchange baselines of three
// 2020-2021 builds). On a server at a later CU (2016 CU23, 2019 CU14/CU15, SE: the builds still in service) its own
// pages can differ from every list, and a later CU ships files the lists never name: that is not evidence of a
// modified page. When the newest build in the evidence is a CU no list covers, WS-07 is graded low ("worth a
// look") and says so; content signatures and web-shell rules still judge the same files. With no build in the
// evidence (an install tree copied without logs), the CU folder the differing static files sit in names it.
import type { RawFinding } from '../../model.js';
import { compareBuild, formatBuild, parseBuild, type Build } from '../../builds/parse.js';
import { buildEvidence, type BuildEvidence } from '../exposure.js';
import { meaningOf } from '../finding.js';
import type { HostRule } from '../host.js';
import { baseline } from './baselines.js';
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
type ServerBuild = { build: Build; origin: string };

/** A CU's own folder in the install tree: `owa\auth\15.2.1544\…`, `ecp\15.2.1544\…` (static files of that CU). */
const BUILD_FOLDER = /[\\/](?:owa[\\/]auth|ecp)[\\/](1[45]\.\d{1,2}\.\d{1,5})[\\/]/i;
/** Files a build folder must hold among the differing pages to name the server's CU (one planted file does not). */
const FOLDER_FILES = 3;

/**
 * With no build in the evidence (a copy of the install tree without logs), the newest CU folder the differing pages
 * sit in: setup writes the CU's static files there, so a later CU than any list makes all of them differ.
 */
function folderBuild(findings: readonly RawFinding[]): ServerBuild | null {
  const count = new Map<string, number>();
  for (const f of findings) {
    const m = differingPage(f) ? BUILD_FOLDER.exec(f.source.path) : null;
    if (m) count.set(m[1], (count.get(m[1]) ?? 0) + 1);
  }
  let best: ServerBuild | null = null;
  for (const [folder, n] of count) {
    const build = n >= FOLDER_FILES ? parseBuild(folder, { cuOnly: true }) : null;
    if (build && (best === null || compareBuild(build, best.build) > 0)) best = { build, origin: `its ${folder} folder under owa\\auth or ecp in the install tree` };
  }
  return best;
}

/**
 * A shipped page whose content differs (it carries baseline_builds). A script that is in no list at all is not one
 * of Microsoft's files on any build, and keeps its grade.
 */
const differingPage = (f: RawFinding): boolean => f.rule === 'WS-07' && f.evidence.baseline_builds !== undefined;

export const BASELINE_BUILD: HostRule = {
  emits: [],
  does: 'Grades WS-07 low when the newest build in the evidence (else the newest CU folder of the install tree) is a CU that no shipped known-good list covers: its own pages are expected to differ.',
  apply(findings, ctx) {
    if (!findings.some(differingPage)) return [...findings];
    const lists = baseline().builds;
    const fact = newestBuild(ctx.facts);
    const newest = fact ? { build: fact.build, origin: fact.fact.origin } : folderBuild(findings);
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
    return findings.map((f): RawFinding =>
      differingPage(f)
        ? { ...f, title: m.title, severity: m.severity, kind: m.kind, summary: f.summary + why, evidence: { ...f.evidence, server_build: build, baseline_builds: lists, not_compared: notCompared } }
        : f,
    );
  },
};
