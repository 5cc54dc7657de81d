/**
 * A Disk for power-loss tests: writes go to real files (so bspatch and hashing see them), and
 * the disk remembers each file's last *durable* content (after sync, an atomic replace or a
 * remove). `cut()` is a power cut: every file is reset to its durable content (or deleted if it
 * never was durable) and this instance refuses all further I/O. The next boot gets a new instance
 * sharing the same durable record. Mutating operations are numbered across boots so a test can
 * cut power at operation N.
 */
import { readFileSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import type { Disk, DiskWriter } from '../../src/agent/update/disk.ts';

export class PowerCutError extends Error {}

export interface PowerHistory {
  /** Durable content per touched path; null = durably absent. */
  durable: Map<string, Buffer | null>;
  /** Mutating operations so far, across boots. */
  ops: number;
  /** Cut power just before this operation number. */
  cutAtOp?: number;
  /** Labels of the operations, for naming a failing crash point. */
  log: string[];
}

export function newPowerHistory(cutAtOp?: number): PowerHistory {
  return cutAtOp === undefined
    ? { durable: new Map(), ops: 0, log: [] }
    : { durable: new Map(), ops: 0, log: [], cutAtOp };
}

export class CrashableDisk implements Disk {
  dead = false;
  constructor(
    readonly history: PowerHistory,
    private readonly chunkBytes = 8192,
  ) {}

  /** Power cut: unsynced data is lost. */
  cut(): void {
    if (this.dead) return;
    this.dead = true;
    for (const [path, content] of this.history.durable) {
      if (content === null) {
        if (existsSync(path)) unlinkSync(path);
      } else writeFileSync(path, content);
    }
  }

  private alive(): void {
    if (this.dead) throw new PowerCutError('power is off');
  }

  /** Counts a mutating operation and cuts power when it is the chosen one. */
  private before(label: string, path: string): void {
    this.alive();
    this.remember(path);
    const n = this.history.ops++;
    this.history.log.push(`${n} ${label}`);
    if (n === this.history.cutAtOp) {
      this.cut();
      throw new PowerCutError(`power cut before op ${n} (${label})`);
    }
  }

  /** A file that existed before it was first touched is durable as it was. */
  private remember(path: string): void {
    if (!this.history.durable.has(path))
      this.history.durable.set(path, existsSync(path) ? readFileSync(path) : null);
  }

  async readFile(path: string) {
    this.alive();
    return readFile(path).catch(() => undefined);
  }

  async size(path: string) {
    this.alive();
    return (await stat(path).catch(() => undefined))?.size;
  }

  async *readChunks(path: string, length?: number): AsyncIterable<Buffer> {
    this.alive();
    const bytes = await readFile(path);
    const end = length === undefined ? bytes.length : Math.min(length, bytes.length);
    for (let at = 0; at < end; at += this.chunkBytes) {
      this.alive();
      yield bytes.subarray(at, Math.min(end, at + this.chunkBytes));
    }
  }

  async replaceFile(path: string, data: Uint8Array) {
    this.before(`replace ${short(path)}`, path);
    await writeFile(path, data);
    this.history.durable.set(path, Buffer.from(data));
  }

  async remove(path: string) {
    this.before(`remove ${short(path)}`, path);
    await unlink(path).catch(() => {});
    this.history.durable.set(path, null);
  }

  async openWriter(path: string): Promise<DiskWriter> {
    this.alive();
    this.remember(path);
    const handle = await open(path, existsSync(path) ? 'r+' : 'w+');
    return {
      write: async (data, position) => {
        this.before(`write ${short(path)}@${position}`, path);
        await handle.write(data, 0, data.length, position);
      },
      truncate: async (length) => {
        this.before(`truncate ${short(path)} ${length}`, path);
        await handle.truncate(length);
      },
      sync: async () => {
        this.before(`sync ${short(path)}`, path);
        this.history.durable.set(path, await readFile(path));
      },
      close: () => handle.close().catch(() => {}),
    };
  }

  /** The bootloader's own env write at power-on (not a crash point of the client). */
  bootloaderWrite(path: string, data: Buffer): void {
    this.remember(path);
    writeFileSync(path, data);
    this.history.durable.set(path, data);
  }
}

function short(path: string): string {
  return path.split('/').slice(-1)[0] ?? path;
}
