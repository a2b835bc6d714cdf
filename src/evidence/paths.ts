// Windows paths named in logs (OAB 26858 temp files, mailbox-export targets, IIS requests) versus the relative
// paths of the evidence we hold: the collector may have started at C:\, at inetpub, or under a `C/` folder.

/** Path segments, lower case, without drive, UNC host/share (`\\localhost\c$`), `.` or empty parts. */
export function winSegments(p: string): string[] {
  let s = p.trim().replace(/^["']|["']$/g, '').replace(/\\/g, '/').toLowerCase();
  s = s.replace(/^\/\/[^/]+\/[a-z]\$\//, '/'); // \\host\c$\...
  s = s.replace(/^\/\/\?\//, '').replace(/^[a-z]:(?=\/|$)/, ''); // \\?\C:\..., C:\...
  return s.split('/').filter((x) => x !== '' && x !== '.');
}

/**
 * Whether an evidence file (relative path, `/` or `\`) can be the file a Windows path names: the shorter of the
 * two, by segments, must be a tail of the longer (so the file name and every folder both name agree).
 */
export function winPathSuffixMatch(windowsPath: string, relEvidencePath: string): boolean {
  const a = winSegments(windowsPath);
  const b = winSegments(relEvidencePath);
  const n = Math.min(a.length, b.length);
  if (n === 0) return false;
  for (let i = 1; i <= n; i++) if (a[a.length - i] !== b[b.length - i]) return false;
  return true;
}

/** Lower-case `\`-separated form of a relative evidence path, for the Windows-path IOC regexes and lists. */
export function toWinLower(rel: string): string {
  return rel.replace(/\//g, '\\').toLowerCase();
}
