// Opening evidence read-only without touching its access time (Linux O_NOATIME: scanning or collecting from a
// mounted image must not rewrite every atime). O_NOATIME needs ownership or CAP_FOWNER; without, a plain open.
import { constants, open as openCb, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const NOATIME = constants.O_NOATIME ?? 0;

async function withNoAtime<T>(flags: number, opener: (flags: number) => Promise<T>): Promise<T> {
  if (NOATIME) {
    try {
      return await opener(flags | NOATIME);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
  return opener(flags);
}

/** `path`: a string, or the bytes of a path whose names are not all UTF-8 (evidence/walk.ts). */
export function openEvidence(path: string | Uint8Array, flags: number = constants.O_RDONLY): Promise<FileHandle> {
  const abs = typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  return withNoAtime(flags, (f) => open(abs, f));
}

/**
 * The same, blocking, as a raw descriptor: for a thread that reads one small file at a time, where a round trip
 * through libuv's thread pool per open, read and close cost more than the reads.
 */
export function openEvidenceSync(path: string | Uint8Array): number {
  const abs = typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  if (NOATIME) {
    try {
      return openSync(abs, constants.O_RDONLY | NOATIME);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
  return openSync(abs, constants.O_RDONLY);
}

/** The same as a raw descriptor, for libraries that take one (yauzl.fromFd closes it). */
export function openEvidenceFd(abs: string): Promise<number> {
  return withNoAtime(constants.O_RDONLY, (f) => new Promise<number>((res, rej) => openCb(abs, f, (err, fd) => (err ? rej(err) : res(fd)))));
}
