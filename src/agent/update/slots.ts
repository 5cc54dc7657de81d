/**
 * Writing an image into the inactive slot: streamed, fsynced at the end, then read back and
 * hashed so a bad write is caught before the slot is ever marked bootable. The same code writes
 * a file per slot (simulation) or a block device (production). The active slot is never written.
 */
import { ForbiddenError } from '../../infra/errors.ts';
import type { Slot } from './boot-control.ts';
import type { Disk } from './disk.ts';
import { sha256Of } from './download.ts';
import { UpdateRefusedError } from './errors.ts';
import type { SignedFile } from './target-policy.ts';

export interface SlotLayout {
  /** Path of each slot: an image file in simulation, a partition (e.g. /dev/mmcblk0p2) in production. */
  paths: Record<Slot, string>;
  /** Capacity of a slot in bytes; images larger are refused (no_space). Default: unchecked. */
  capacityBytes?: number;
}

export interface WriteSlotOptions {
  layout: SlotLayout;
  target: Slot;
  /** The slot the system booted from; writing it is refused. */
  booted: Slot;
  /** A verified image file. */
  source: string;
  image: SignedFile;
  onProgress?: (bytes: number) => void;
}

export async function writeSlot(disk: Disk, options: WriteSlotOptions): Promise<void> {
  const { layout, image } = options;
  if (options.target === options.booted) throw new ForbiddenError('refusing to write the booted slot');
  if (layout.capacityBytes !== undefined && image.length > layout.capacityBytes)
    throw new UpdateRefusedError(
      'no_space',
      `image is ${image.length} bytes, slot holds ${layout.capacityBytes}`,
    );
  const path = layout.paths[options.target];
  const writer = await disk.openWriter(path);
  try {
    let offset = 0;
    for await (const chunk of disk.readChunks(options.source, image.length)) {
      await writer.write(chunk, offset);
      offset += chunk.length;
      options.onProgress?.(offset);
    }
    if (offset !== image.length)
      throw new UpdateRefusedError('install_failed', `source has ${offset} of ${image.length} bytes`);
    // A slot file from an earlier, longer image keeps its tail; only the first `length` bytes count.
    await writer.sync();
  } finally {
    await writer.close();
  }
  const written = await sha256Of(disk, path, image.length);
  if (written !== image.sha256)
    throw new UpdateRefusedError('install_failed', 'slot read-back does not match the image sha256');
}
