// One byte cap for inflating streams (zip entries, .gz logs): a bomb is stopped as soon as it passes the cap.
import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through; fails with `over()` once more than `limit` bytes passed, and with `short()` at the end if
 *  given and fewer did (a zip entry must be exactly its declared size). */
export class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly over: () => string,
    private readonly short?: (seen: number) => string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(new Error(this.over()));
    else cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.short && this.seen < this.limit ? new Error(this.short(this.seen)) : null);
  }
}
