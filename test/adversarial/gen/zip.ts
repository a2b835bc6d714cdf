// Deterministic hostile zips, written byte by byte from the PKWARE APPNOTE layout (local headers, central directory,
// end record). The overlapping construction is David Fifield's "A better zip bomb" (WOOT 2019,
// https://www.bamsoftware.com/hacks/zipbomb/): each entry's deflate stream quotes the next local header in a stored
// block and then runs on into the next entry's data, so every entry inflates the one shared kernel.
import { crc32, deflateRawSync } from 'node:zlib';

interface Entry {
  name: string;
  offset: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
}

function localHeader(e: Omit<Entry, 'offset'>): Buffer {
  const name = Buffer.from(e.name, 'utf8');
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(0x0800, 6); // UTF-8 names
  h.writeUInt16LE(e.method, 8);
  h.writeUInt16LE(0x6000, 10);
  h.writeUInt16LE(0x5a63, 12); // 2025-03-03
  h.writeUInt32LE(e.crc, 14);
  h.writeUInt32LE(e.csize, 18);
  h.writeUInt32LE(e.usize, 22);
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, name]);
}

function centralDirectory(entries: Entry[], cdOffset: number): Buffer {
  const parts = entries.map((e) => {
    const name = Buffer.from(e.name, 'utf8');
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt16LE(0x6000, 12);
    c.writeUInt16LE(0x5a63, 14);
    c.writeUInt32LE(e.crc, 16);
    c.writeUInt32LE(e.csize, 20);
    c.writeUInt32LE(e.usize, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    c.writeUInt32LE(e.offset, 42);
    return Buffer.concat([c, name]);
  });
  const cd = Buffer.concat(parts);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([cd, end]);
}

/** A stored (uncompressed) deflate block header, not final, announcing `len` literal bytes. */
function storedBlock(len: number): Buffer {
  return Buffer.from([0x00, len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff]);
}

/** `count` entries sharing one kernel of `kernelBytes` "A" bytes: each inflates to about kernelBytes. */
export function overlappingZipBomb(count: number, kernelBytes: number): Buffer {
  const kernelPlain = Buffer.alloc(kernelBytes, 0x41);
  const kernel = deflateRawSync(kernelPlain, { level: 9 });
  const names = Array.from({ length: count }, (_, i) => `logs/W3SVC1/u_ex2103${String(i).padStart(4, '0')}.log`);
  // Sizes from the last entry back: entry i's stream = stored(LH_{i+1}) LH_{i+1} … kernel. CRCs are left 0:
  // neither yauzl nor exhunt checks them, and computing them would inflate the bomb here.
  const csize: number[] = new Array(count);
  const usize: number[] = new Array(count);
  const headers: Buffer[] = new Array(count);
  for (let i = count - 1; i >= 0; i--) {
    csize[i] = i === count - 1 ? kernel.length : 5 + headers[i + 1].length + csize[i + 1];
    usize[i] = i === count - 1 ? kernelBytes : headers[i + 1].length + usize[i + 1];
    headers[i] = localHeader({ name: names[i], method: 8, crc: 0, csize: csize[i], usize: usize[i] });
  }
  const body: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    entries.push({ name: names[i], offset, method: 8, crc: 0, csize: csize[i], usize: usize[i] });
    body.push(headers[i]);
    offset += headers[i].length;
    if (i < count - 1) {
      const q = storedBlock(headers[i + 1].length);
      body.push(q);
      offset += q.length;
    }
  }
  body.push(kernel);
  offset += kernel.length;
  return Buffer.concat([...body, centralDirectory(entries, offset)]);
}

/** Ordinary stored entries (no overlap) whose declared sizes add up to far more than the archive could hold. */
export function overDeclaredZip(count: number, declaredEach: number): Buffer {
  const body: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const data = deflateRawSync(Buffer.from(`entry ${i}\n`));
    const name = `files/C/inetpub/wwwroot/aspnet_client/f${i}.txt`;
    const lh = localHeader({ name, method: 8, crc: 0, csize: data.length, usize: declaredEach });
    entries.push({ name, offset, method: 8, crc: 0, csize: data.length, usize: declaredEach });
    body.push(lh, data);
    offset += lh.length + data.length;
  }
  return Buffer.concat([...body, centralDirectory(entries, offset)]);
}

/** A plain valid zip with the given files (stored), for hosts around a broken one. */
export function plainZip(files: Record<string, string | Buffer>): Buffer {
  const body: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const e = { name, method: 0, crc: crc32(data), csize: data.length, usize: data.length };
    const lh = localHeader(e);
    entries.push({ ...e, offset });
    body.push(lh, data);
    offset += lh.length + data.length;
  }
  return Buffer.concat([...body, centralDirectory(entries, offset)]);
}
