// Exchange build numbers in every spelling seen in the wild, parsed into four integers.

/**
 * How much a build string tells: `full` carries the SU level (ExSetup, `#Version`, HttpProxy build columns,
 * X-OWA-Version, export-tool manifest); `cu` only identifies the CU (AdminDisplayVersion, TargetServerVersion with
 * revision zeroed, `/owa/auth/<build>/` paths, registry Msi* values).
 */
export type Precision = 'full' | 'cu';

export interface Build {
  major: number;
  minor: number;
  build: number;
  revision: number;
  precision: Precision;
}

// Anchored, linear patterns; input is length-capped first because values may come from servers or attackers.
const ADMIN_DISPLAY = /^Version\s+(\d{1,2})\.(\d{1,2})\s*\(Build\s+(\d{1,5})\.(\d{1,5})\)$/i;
const DOTTED = /^v?(\d{1,2})([.,])(\d{1,2})\2(\d{1,5})(?:\2(\d{1,5}))?$/i;
const OWA_PATH = /\/owa\/(?:auth\/)?(\d{1,2})\.(\d{1,2})\.(\d{1,5})\//i;
const MAX_INPUT = 300;

/** Parses one build string; null when it is not a build. Never throws. */
export function parseBuild(input: string, opts: { cuOnly?: boolean } = {}): Build | null {
  const s = input.trim();
  if (s.length === 0 || s.length > MAX_INPUT) return null;
  const b = parseSpelling(s);
  if (!b || !plausible(b)) return null;
  return opts.cuOnly ? { ...b, precision: 'cu' } : b;
}

function parseSpelling(s: string): Build | null {
  const ad = ADMIN_DISPLAY.exec(s);
  // AdminDisplayVersion shows the CU's own build.revision, never the SU.
  if (ad) return make(ad[1], ad[2], ad[3], ad[4], 'cu');
  const d = DOTTED.exec(s);
  if (d) {
    if (d[5] === undefined) return make(d[1], d[3], d[4], '0', 'cu');
    const b = make(d[1], d[3], d[4], d[5], 'full');
    // TargetServerVersion and registry values zero the revision; no Exchange 2013+ release has revision 0.
    return b.major >= 15 && b.revision === 0 ? { ...b, precision: 'cu' } : b;
  }
  const p = OWA_PATH.exec(s);
  if (p) return make(p[1], p[2], p[3], '0', 'cu');
  return null;
}

function make(a: string, b: string, c: string, d: string, precision: Precision): Build {
  return { major: Number(a), minor: Number(b), build: Number(c), revision: Number(d), precision };
}

// Exchange 2010 is 14.x, 2013/2016/2019/SE are 15.0-15.2; anything else is not an Exchange build we can assess.
function plausible(b: Build): boolean {
  return (b.major === 14 && b.minor <= 3) || (b.major === 15 && b.minor <= 2);
}

/** Tuple compare of major.minor.build.revision (never string compare). */
export function compareBuild(a: Omit<Build, 'precision'>, b: Omit<Build, 'precision'>): number {
  return a.major - b.major || a.minor - b.minor || a.build - b.build || a.revision - b.revision;
}

/** Short form, e.g. `15.1.2176.2`; CU-only builds print as `15.1.2176` when the revision is unknown (0). */
export function formatBuild(b: Build): string {
  if (b.precision === 'cu' && b.revision === 0) return `${b.major}.${b.minor}.${b.build}`;
  return `${b.major}.${b.minor}.${b.build}.${b.revision}`;
}

const constants = new Map<string, Build>();

/** Parses a table constant (memoised: assessments compare against the whole table); throws on a typo. */
export function mustParse(s: string): Build {
  let b = constants.get(s) ?? null;
  if (b) return b;
  b = parseBuild(s);
  if (!b) throw new Error(`bad build constant ${s}`);
  constants.set(s, b);
  return b;
}
