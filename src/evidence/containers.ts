// Containers exhunt cannot open: disk images (KAPE's `--vhdx` / `--vhd` target output, forensic images) and archive
// formats it has no reader for. Evidence often arrives so (KAPE writes a VHDX and zips it by default with `--zv`); its
// logs are unread, so the report must name the file and say how to make it readable, never count it as swept.

/** Names worth a look (the magic then decides). `.cab` is left out: a Windows drive holds thousands of them. */
const CONTAINER_NAME = /\.(vhdx|avhdx|vhd|vmdk|e01|ex01|l01|lx01|ad1|qcow2|7z|rar|tar|tbz2?|txz|bz2|xz|zst|dd|raw|img|00[01])$/i;

/** Names that say "container" without the bytes (a zip entry is not read here): only unambiguous extensions. */
const CONTAINER_ENTRY_NAME = /\.(vhdx|avhdx|vhd|vmdk|e01|ex01|l01|lx01|ad1|qcow2|tar|tbz2?|txz|bz2|xz|zst)$/i;

/** Bytes of the head a container check needs: the GPT header signature sits at 512, tar's at 257. */
export const CONTAINER_HEAD_BYTES = 520;

const MOUNT = 'mount it read-only and scan the mounted drive';
/** How a skipped archive is reported: the one step that makes its files readable. */
export const EXTRACT = 'not opened (extract it and scan the folder)';

/** Disk and forensic images, by name (a container's bytes decide that it is one; its name, which kind). */
const IMAGE_NAME = /\.(vhdx|avhdx|vhd|vmdk|e01|ex01|l01|lx01|ad1|qcow2|dd|raw|img|00[01])$/i;

/** A container whose reason is known: a disk or forensic image (evidence packaging), else an archive. */
export function containerKind(rel: string): 'image' | 'archive' {
  return IMAGE_NAME.test(rel) ? 'image' : 'archive';
}

export function maybeContainer(rel: string): boolean {
  return CONTAINER_NAME.test(rel);
}

const at = (b: Buffer, off: number, s: string): boolean => b.length >= off + s.length && b.toString('latin1', off, off + s.length) === s;

/**
 * Why a file that is a container is not read, or null when its bytes are not one. `tail`: the last 512 bytes (a
 * fixed VHD has its `conectix` footer only there), or null when not read.
 */
export function containerReason(rel: string, head: Buffer, tail: Buffer | null): string | null {
  if (at(head, 0, 'vhdxfile')) {
    const kape = /(^|\/)\d{4}-\d\d-\d\dT\d{6}_[^/]*\.vhdx$/i.test(rel) ? ' (KAPE target output)' : '';
    return `VHDX disk image${kape}: not opened; ${MOUNT} (Windows: Mount-DiskImage -ImagePath FILE -Access ReadOnly; Linux: guestmount --ro -a FILE -i DIR)`;
  }
  if (at(head, 0, 'conectix') || (tail !== null && at(tail, 0, 'conectix')))
    return `VHD disk image: not opened; ${MOUNT} (Windows: Mount-DiskImage -ImagePath FILE -Access ReadOnly; Linux: guestmount --ro -a FILE -i DIR)`;
  if (at(head, 0, 'KDMV') || at(head, 0, 'COWD') || at(head, 0, '# Disk DescriptorFile'))
    return `VMDK disk image: not opened; ${MOUNT} (Linux: guestmount --ro -a FILE -i DIR)`;
  if (at(head, 0, 'QFI\xfb')) return `QCOW2 disk image: not opened; ${MOUNT} (Linux: guestmount --ro -a FILE -i DIR)`;
  if (at(head, 0, 'EVF\x09\x0d\x0a\xff\x00') || at(head, 0, 'EVF2\x0d\x0a\x81\x00'))
    return `EnCase image (E01/Ex01): not opened; ${MOUNT} (Linux: ewfmount FILE DIR, then mount the partition read-only)`;
  if (at(head, 0, 'LVF\x09\x0d\x0a\xff\x00') || at(head, 0, 'LEF2\x0d\x0a\x81\x00'))
    return 'EnCase logical evidence file (L01/Lx01): not opened; export its files (FTK Imager, EnCase) and scan the folder';
  if (at(head, 0, 'ADSEGMENTEDFILE')) return 'FTK AD1 image: not opened; export its files (FTK Imager) and scan the folder';
  if (at(head, 0, '7z\xbc\xaf\x27\x1c')) return `7z archive: ${EXTRACT}`;
  if (at(head, 0, 'Rar!\x1a\x07')) return `RAR archive: ${EXTRACT}`;
  if (at(head, 257, 'ustar')) return `tar archive: ${EXTRACT}`;
  if (at(head, 0, 'BZh') && /\.(bz2|tbz2?)$/i.test(rel)) return `bzip2 file: ${EXTRACT}`;
  if (at(head, 0, '\xfd7zXZ\x00')) return `xz file: ${EXTRACT}`;
  if (at(head, 0, '\x28\xb5\x2f\xfd')) return `zstd file: ${EXTRACT}`;
  // Raw images (`dd`, FTK's `.001` segments): an NTFS volume's boot sector, or a disk's GPT / MBR.
  if (/\.(dd|raw|img|00[01])$/i.test(rel)) {
    const mbr = head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa;
    if (at(head, 3, 'NTFS    ') || at(head, 512, 'EFI PART') || mbr)
      return `raw disk or volume image: not opened; ${MOUNT} (Linux: mount -o ro,loop,offset=… or losetup -rP)`;
  }
  return null;
}

/** The reason for a container inside a zip, judged by its name alone (its bytes are not read there). */
export function zipEntryContainerReason(name: string): string | null {
  const m = CONTAINER_ENTRY_NAME.exec(name);
  if (!m) return null;
  const ext = m[1].toLowerCase();
  const image = /^(vhdx|avhdx|vhd|vmdk|qcow2|e01|ex01)$/.test(ext);
  return image
    ? `disk image inside a zip: not opened (extract it, then ${MOUNT})`
    : /^(l01|lx01|ad1)$/.test(ext)
      ? 'forensic image inside a zip: not opened (extract it, export its files and scan the folder)'
      : `archive inside an archive: ${EXTRACT}`;
}
