// Windows paths named in logs (OAB 26858 temp files, mailbox-export targets, IIS requests) versus the relative
// paths of the evidence we hold: the collector may have started at C:\, at inetpub, or under a `C/` folder.

/** Path segments, lower case, without drive, UNC host/share (`\\localhost\c$`), `.` or empty parts. */
export function winSegments(p: string): string[] {
  let s = p.trim().replace(/^["']|["']$/g, '').replace(/\\/g, '/').toLowerCase();
  s = s.replace(/^\/\/[^/]+\/[a-z]\$\//, '/'); // \\host\c$\...
  s = s.replace(/^\/\/\?\//, '').replace(/^[a-z]:(?=\/|$)/, ''); // \\?\C:\..., C:\...
  return s.split('/').filter((x) => x !== '' && x !== '.');
}

/** Lower-case `\`-separated form of a relative evidence path, for the Windows-path IOC regexes and lists. */
export function toWinLower(rel: string): string {
  return rel.replace(/\//g, '\\').toLowerCase();
}
