/** A simulated device for the update client: two slot files, a file boot env, a state dir. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpdateStatus } from '../../src/contracts/update-messages.ts';
import type { Disk } from '../../src/agent/update/disk.ts';
import { nodeDisk } from '../../src/agent/update/disk.ts';
import {
  bootloaderDecide,
  createFileBootControl,
  encodeFileBootEnv,
  parseFileBootEnv,
  type FileBootEnv,
} from '../../src/agent/update/boot-file-env.ts';
import type { HealthCheck } from '../../src/agent/update/health.ts';
import { createUpdateClient } from '../../src/agent/update/update-client.ts';
import type { Checkpoint, UpdateClient, UpdateClientOptions } from '../../src/agent/update/types.ts';
import type { Clock } from '../../src/infra/clock.ts';
import type { Timers } from '../../src/infra/timers.ts';
import { installTrustedRoot } from './tuf-fixture.ts';

export const HARDWARE = { model: 'tracker', revision: 'r2' };
export const HW_CUSTOM = { model: 'tracker', revisions: ['r1', 'r2'] };

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Old and new release images; the new one shares most bytes so a bsdiff delta is small. */
export function makeImages(): { oldImage: Buffer; newImage: Buffer } {
  const oldImage = randomBytes(40 * 1024);
  const newImage = Buffer.concat([oldImage, randomBytes(4096)]);
  randomBytes(2048).copy(newImage, 10_000);
  return { oldImage, newImage };
}

/** setTimeout that fires on the next turn: retries and health rounds without sleeping. */
export const immediateTimers: Timers = {
  setTimeout: (callback) => setImmediate(callback),
  clearTimeout: (handle) => clearImmediate(handle as NodeJS.Immediate),
  setInterval: () => undefined,
  clearInterval: () => {},
};

export const silentLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export interface Device {
  dir: string;
  slots: { a: string; b: string };
  stateDir: string;
  tufDir: string;
  envPath: string;
  oldImage: Buffer;
}

export async function createDevice(base: string, repoDir: string, oldImage: Buffer): Promise<Device> {
  const dir = await mkdtemp(join(base, 'device-'));
  const slots = { a: join(dir, 'slot-a.img'), b: join(dir, 'slot-b.img') };
  const stateDir = join(dir, 'state');
  const tufDir = join(dir, 'tuf');
  await mkdir(stateDir);
  await mkdir(tufDir);
  await installTrustedRoot(repoDir, tufDir);
  await writeFile(slots.a, oldImage);
  await writeFile(slots.b, randomBytes(1000)); // whatever an older install left there
  const envPath = join(dir, 'bootenv.json');
  await writeFile(envPath, encodeFileBootEnv({ primary: 'a', booted: 'a' }));
  return { dir, slots, stateDir, tufDir, envPath, oldImage };
}

export async function readEnv(device: Device): Promise<FileBootEnv> {
  return parseFileBootEnv(await readFile(device.envPath));
}

/** Power-on with the real env file (non-crash tests). */
export async function powerOn(device: Device): Promise<FileBootEnv> {
  const next = bootloaderDecide(await readEnv(device));
  await writeFile(device.envPath, encodeFileBootEnv(next));
  return next;
}

export async function slotHash(device: Device, slot: 'a' | 'b', length: number): Promise<string> {
  return sha256((await readFile(device.slots[slot])).subarray(0, length));
}

export interface ClientRig {
  client: UpdateClient;
  reports: UpdateStatus[];
  rebooted: () => boolean;
}

export interface ClientOverrides {
  disk?: Disk;
  reports?: UpdateStatus[];
  healthChecks?: readonly HealthCheck[];
  checkpoint?: (name: Checkpoint) => void;
  options?: Partial<UpdateClientOptions>;
  /** Drops reports (the device is off). */
  isOff?: () => boolean;
  /** Default: the system clock. */
  clock?: Clock;
}

export function createClient(device: Device, serverUrl: string, overrides: ClientOverrides = {}): ClientRig {
  const disk = overrides.disk ?? nodeDisk;
  const reports = overrides.reports ?? [];
  let rebooted = false;
  const client = createUpdateClient(
    {
      disk,
      bootControl: createFileBootControl(disk, device.envPath),
      clock: overrides.clock ?? { now: () => Date.now() },
      timers: immediateTimers,
      logger: silentLogger,
      report: (status) => {
        if (overrides.isOff?.() !== true) reports.push(status);
      },
      reboot: () => {
        rebooted = true;
        return Promise.resolve();
      },
      ...(overrides.checkpoint ? { checkpoint: overrides.checkpoint } : {}),
    },
    {
      deviceHttpUrl: serverUrl,
      stateDir: device.stateDir,
      tufMetadataDir: device.tufDir,
      slots: { paths: device.slots },
      hardware: HARDWARE,
      installed: { version: '1.0.0', length: device.oldImage.length },
      healthChecks: overrides.healthChecks ?? [{ name: 'ok', run: () => Promise.resolve(true) }],
      healthRetryDelayMs: 0,
      download: { syncEveryBytes: 8192, attempts: 3, retryDelayMs: 0 },
      ...overrides.options,
    },
  );
  return { client, reports, rebooted: () => rebooted };
}
