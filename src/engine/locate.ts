// Does a file that a log names (a Windows path) exist in the evidence? Copies keep the tail of the original path
// (`C/inetpub/wwwroot/aspnet_client/x.aspx`, `files/C/...` in a case, or just `aspnet_client/x.aspx`).
import type { EvidenceFile } from '../evidence/file.js';

function segments(path: string): string[] {
  return path.replace(/\\/g, '/').split('/').filter((s) => s !== '' && !/^[A-Za-z]:$/.test(s)).map((s) => s.toLowerCase());
}

/**
 * The evidence file whose path ends with the longest run of the Windows path's trailing segments (at least the
 * file name and its folder), or null.
 */
export function locateWindowsPath(winPath: string, files: readonly EvidenceFile[]): EvidenceFile | null {
  const want = segments(winPath);
  if (want.length < 2) return null;
  let best: { file: EvidenceFile; depth: number } | null = null;
  for (const f of files) {
    const have = segments(f.rel);
    let depth = 0;
    while (depth < want.length && depth < have.length && want[want.length - 1 - depth] === have[have.length - 1 - depth]) depth++;
    if (depth >= 2 && (!best || depth > best.depth)) best = { file: f, depth };
  }
  return best?.file ?? null;
}
