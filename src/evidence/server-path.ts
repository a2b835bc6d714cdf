// Evidence paths as the server's own Windows paths: what an administrator types on the server.

/**
 * `C/inetpub/wwwroot/x.aspx` (a case folder keeps each drive as its letter, see docs/case-format.md) becomes
 * `C:\inetpub\wwwroot\x.aspx`; a path that already is a Windows path is kept. Null when the drive is unknown
 * (a bare log folder or a zip without the drive layout): then only the evidence path can be shown.
 */
export function serverPath(path: string): string | null {
  if (/^[a-z]:\\/i.test(path) || path.startsWith('\\\\')) return path;
  if (/^[a-z]:\//i.test(path)) return path.replace(/\//g, '\\');
  const m = /^(?:files\/)?([a-z])\/(.+)$/i.exec(path);
  return m ? `${m[1].toUpperCase()}:\\${m[2].replace(/\//g, '\\')}` : null;
}
