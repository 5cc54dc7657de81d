/**
 * Releases of the demo fleet, published through the management API at every start (idempotent:
 * 409 means an earlier start published it). The factory image of every (model, version) the demo
 * devices run lets a new release deploy to them as a delta; one release newer than anything they
 * run, per model, is there so a new user can start a rollout from the dashboard and watch the
 * simulated devices take it. The server signs each image on publication like any release.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { simulatedFleet } from '../sim/attributes.ts';
import { simulatedImage } from '../sim/sim-firmware.ts';

/** A release newer than every version the simulated fleet runs (src/sim/attributes.ts), per model. */
export const DEMO_NEW_RELEASES: ReadonlyArray<{ model: string; version: string }> = [
  { model: 'tracker-2', version: '2.5.0' },
  { model: 'sensor-mini', version: '3.1.0' },
  { model: 'gateway-x1', version: '1.9.0' },
];

export interface DemoApi {
  /** `http://host:port` of the management API. */
  httpUrl: string;
  /** Headers that authorize a call (empty with access control off). */
  headers: Record<string, string>;
}

interface DemoRelease {
  model: string;
  version: string;
  notes: string;
}

/** Every release the demo needs: the factory images of `devices` simulated devices, then the new ones. */
export function demoReleases(devices: number, seed: number): DemoRelease[] {
  const running = new Set(
    simulatedFleet(devices, seed).map((d) => `${d.hardware.model}@${d.firmwareVersion}`),
  );
  const factory = [...running].map((key) => {
    const [model = '', version = ''] = key.split('@');
    return { model, version, notes: 'demo fleet factory image' };
  });
  const next = DEMO_NEW_RELEASES.map(({ model, version }) => ({
    model,
    version,
    notes:
      'demo release newer than the demo fleet runs: roll it out from the dashboard (Rollouts → New rollout)',
  }));
  return [...factory, ...next];
}

async function publish(api: DemoApi, release: DemoRelease): Promise<void> {
  const key = `${release.model}@${release.version}`;
  const image = simulatedImage(release.model, release.version);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const upload = await fetch(`${api.httpUrl}/api/v1/firmware/artifacts`, {
    method: 'PUT',
    headers: { ...api.headers, 'content-type': 'application/octet-stream' },
    body: image,
  });
  if (!upload.ok) throw new Error(`demo fleet: upload of ${key} failed with HTTP ${upload.status}`);
  const published = await fetch(`${api.httpUrl}/api/v1/firmware/releases`, {
    method: 'POST',
    headers: { ...api.headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      version: release.version,
      hardwareModel: release.model,
      sha256,
      notes: release.notes,
    }),
  });
  // 409: published by an earlier start.
  if (!published.ok && published.status !== 409) {
    throw new Error(
      `demo fleet: release ${key} refused with HTTP ${published.status}: ${await published.text()}`,
    );
  }
}

/** Publishes the demo's releases, factory images first (so each new release gets deltas from them). */
export async function publishDemoReleases(
  api: DemoApi,
  devices: number,
  seed: number,
  logger: Logger,
): Promise<void> {
  const releases = demoReleases(devices, seed);
  for (const release of releases) await publish(api, release);
  logger.info(
    { releases: releases.length, newReleases: DEMO_NEW_RELEASES.map((r) => `${r.model}@${r.version}`) },
    'demo fleet releases published',
  );
}
