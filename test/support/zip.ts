// Zips built in memory for tests (yazl, the writer exhunt's collector uses).
import yazl from 'yazl';

/** A zip of `entries`, as bytes (each entry's time: `mtime`, else now). */
export async function zipOf(entries: Array<{ name: string; data: Buffer; mtime?: Date }>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(e.data, e.name, e.mtime ? { mtime: e.mtime } : {});
  zip.end();
  const parts: Buffer[] = [];
  for await (const c of zip.outputStream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
