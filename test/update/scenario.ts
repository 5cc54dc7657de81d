/** Shared scenario helpers: a repository with a new release, a server and a device. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MaintenanceWindow } from '../../src/contracts/maintenance-window.ts';
import type { UpdateStatus } from '../../src/contracts/update-messages.ts';
import { createPatch } from '../../src/ota/delta/bsdiff.ts';
import {
  createClient,
  createDevice,
  HW_CUSTOM,
  makeImages,
  powerOn,
  sha256,
  type Device,
} from './device-fixture.ts';
import { createTufRepo, serveRepo, type RawTarget, type Repo, type RepoServer } from './tuf-fixture.ts';

/** Servers to close after the test file. */
export const servers: RepoServer[] = [];

export const IMAGE = 'tracker-1.1.0.img';
export const DELTA = 'tracker-1.1.0.from-1.0.0.delta';

export interface World {
  repo: Repo;
  server: RepoServer;
  device: Device;
  oldImage: Buffer;
  newImage: Buffer;
}

export async function world(
  base: string,
  options: {
    delta?: boolean;
    extra?: (w: { oldImage: Buffer; newImage: Buffer }) => Promise<RawTarget[]> | RawTarget[];
    nowMs?: number;
  } = {},
): Promise<World> {
  const { oldImage, newImage } = makeImages();
  const repo = await createTufRepo(base, options.nowMs ?? Date.now());
  const targets: RawTarget[] = [
    { name: IMAGE, bytes: newImage, custom: { version: '1.1.0', hardware: HW_CUSTOM } },
  ];
  if (options.delta === true) targets.push(await deltaTarget(base, oldImage, oldImage, newImage));
  targets.push(...((await options.extra?.({ oldImage, newImage })) ?? []));
  await repo.publish(targets);
  const server = await serveRepo(repo.dir);
  servers.push(server);
  const device = await createDevice(base, repo.dir, oldImage);
  return { repo, server, device, oldImage, newImage };
}

/** A delta signed as applying to `claimedBase`, built from `realBase`. */
export async function deltaTarget(
  base: string,
  claimedBase: Buffer,
  realBase: Buffer,
  newImage: Buffer,
): Promise<RawTarget> {
  const dir = await mkdtemp(join(base, 'delta-'));
  await writeFile(join(dir, 'old'), realBase);
  await writeFile(join(dir, 'new'), newImage);
  await createPatch(join(dir, 'old'), join(dir, 'new'), join(dir, 'patch'));
  return {
    name: DELTA,
    bytes: await readFile(join(dir, 'patch')),
    custom: {
      kind: 'delta',
      version: '1.1.0',
      hardware: HW_CUSTOM,
      base: { version: '1.0.0', sha256: sha256(claimedBase) },
      target: { name: IMAGE, sha256: sha256(newImage), length: newImage.length },
    },
  };
}

export function offer(
  over: Partial<{
    deploymentId: string;
    target: string;
    installNow: boolean;
    force: boolean;
    installWindow: MaintenanceWindow | null;
  }> = {},
) {
  return { deploymentId: 'dep-1', version: '1.1.0', target: IMAGE, installNow: true, force: false, ...over };
}

export const states = (reports: UpdateStatus[]) => reports.map((r) => r.state);

export function assertSeqIncreasing(reports: UpdateStatus[]): void {
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.seq > reports[i - 1]!.seq, 'seq increases');
}

/** Runs an offer to the reboot, powers on, resumes; returns every report. */
export async function updateThroughReboot(w: World, o = offer()) {
  const first = createClient(w.device, w.server.url);
  await first.client.offer(o);
  assert.equal(first.rebooted(), true, `rebooted (reports: ${JSON.stringify(first.reports)})`);
  const env = await powerOn(w.device);
  const second = createClient(w.device, w.server.url, { reports: first.reports });
  await second.client.resumeAfterBoot();
  return { reports: first.reports, env, client: second.client };
}
