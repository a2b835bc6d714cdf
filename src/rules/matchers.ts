// Small matchers shared by rules. No file or output knowledge here.

/**
 * PowerShell `-like` (case-insensitive, `*` any run, `?` one char). Matched with the greedy glob algorithm (back to
 * the last `*` only), O(value × pattern): as a regex, each `*` became `[\s\S]*` and three of them over a 32 KB
 * value took seconds.
 */
export function psLike(pattern: string): (value: string) => boolean {
  const p = pattern.toLowerCase();
  return (value) => {
    const v = value.toLowerCase();
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < v.length) {
      if (j < p.length && (p[j] === '?' || (p[j] !== '*' && p[j] === v[i]))) {
        i++;
        j++;
      } else if (j < p.length && p[j] === '*') {
        star = j++;
        mark = i;
      } else if (star >= 0) {
        j = star + 1;
        i = ++mark;
      } else return false;
    }
    while (j < p.length && p[j] === '*') j++;
    return j === p.length;
  };
}

/** Script or server-side markup inside a value that should be a plain URL (the CVE-2021-27065 web shell). */
export function markupIn(value: string): string | null {
  const m = /<\s*script\b|runat\s*=|page_load|eval\s*\(\s*request|<%|<\s*[a-z][\w:-]*[\s>/]/i.exec(value);
  return m ? m[0] : null;
}

/** The password of a China Chopper style shell: `Request["klk123456"]` / `Request.Item["x"]`. */
export function shellPassword(value: string): string | null {
  const m = /Request\s*(?:\.(?:Item|Form|QueryString)\s*)?\[\s*["']([^"'\]]{1,64})["']\s*\]/i.exec(value);
  return m ? m[1] : null;
}

/** A non-empty string value or null (evidence fields are null when the log has no value). */
export function orNull(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

/** Regex source for a literal in which any character may appear as itself or as a `%XX` escape (URLs in logs). */
export function encodedLiteral(literal: string): string {
  return [...literal]
    .map((c) => {
      const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
      const plain = c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return `(?:${plain}|%${hex})`;
    })
    .join('');
}

/**
 * The Exchange and IIS web folders the path rules look for, by the parent they sit in (lower case) and the six
 * characters their 8.3 short name starts with (`FRONTE~1`): a command line, a script or a Sysmon event may name
 * `C:\PROGRA~1\MICROS~1\EXCHAN~1\V15\FRONTE~1\HTTPPR~1\owa\auth\x.aspx`. Tied to the parent so that another
 * folder whose name starts the same way is not taken for one of these.
 */
const SHORT_FOLDERS: ReadonlyArray<{ parent: ReadonlySet<string>; stem: string; long: string }> = [
  { parent: new Set(['v15', 'v14']), stem: 'fronte', long: 'FrontEnd' },
  { parent: new Set(['v15', 'v14']), stem: 'client', long: 'ClientAccess' },
  { parent: new Set(['frontend']), stem: 'httppr', long: 'HttpProxy' },
  { parent: new Set(['wwwroot']), stem: 'aspnet', long: 'aspnet_client' },
];

/**
 * Windows' hashed short form: after four names of a folder share their first six characters (`~1`…`~4`), the next
 * ones get the first two characters, four hex digits of a hash of the long name and `~1`…`~9` (`FR1A2B~1`).
 */
const HASHED_SHORT = /^([a-z0-9_]{2})[0-9a-f]{4}~[1-9]$/i;

/** `path` with the 8.3 short names of those folders written out long; everything else as it was. */
export function longFolderNames(path: string): string {
  if (!path.includes('~')) return path;
  const parts = path.split(/([\\/]+)/); // names at even indexes, separators between them
  for (let i = 2; i < parts.length; i += 2) {
    if (!parts[i].includes('~')) continue;
    const parent = parts[i - 2].toLowerCase();
    const short = /^([a-z0-9_]{6})~\d{1,6}$/i.exec(parts[i]);
    const stem = short?.[1].toLowerCase();
    // Tied to the parent all the same: under V15 only FrontEnd starts FR and only ClientAccess CL.
    const hashed = HASHED_SHORT.exec(parts[i])?.[1].toLowerCase();
    const hit = SHORT_FOLDERS.find((s) => s.parent.has(parent) && (s.stem === stem || (hashed !== undefined && s.stem.startsWith(hashed))));
    if (hit) parts[i] = hit.long;
  }
  return parts.join('');
}
