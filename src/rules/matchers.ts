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
