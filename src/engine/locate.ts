// Does a file that a log names (a Windows path) exist in the evidence? Copies keep the tail of the original path
// (`C/inetpub/wwwroot/aspnet_client/x.aspx`, `files/C/...` in a case, or just `aspnet_client/x.aspx`).
import type { EvidenceFile } from '../evidence/file.js';
import { winSegments } from '../evidence/paths.js';

/**
 * The evidence file whose path ends with the longest run of the Windows path's trailing segments: at least the
 * file name and its folder, or the whole evidence path when that is a bare file name. Null when none does.
 */
export function locateWindowsPath(winPath: string, files: readonly EvidenceFile[]): EvidenceFile | null {
  const want = winSegments(winPath);
  if (want.length === 0) return null;
  let best: { file: EvidenceFile; depth: number } | null = null;
  for (const f of files) {
    const have = winSegments(f.rel);
    let depth = 0;
    while (depth < want.length && depth < have.length && want[want.length - 1 - depth] === have[have.length - 1 - depth]) depth++;
    const enough = depth >= Math.min(2, have.length, want.length);
    if (depth > 0 && enough && (!best || depth > best.depth)) best = { file: f, depth };
  }
  return best?.file ?? null;
}
