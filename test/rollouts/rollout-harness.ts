/**
 * A rollout service on real SQLite stores and the real deployment service (notify recorded), on
 * a clock the test advances by hand. `restart()` reopens the same file with fresh services, as a
 * restarted server would.
 */
import pino from 'pino';
import type { UpdateNotify } from '../../src/contracts/update-messages.ts';
import {
  createDeploymentService,
  type DeploymentService,
} from '../../src/ota/deployments/deployment-service.ts';
import type { TelemetryReader } from '../../src/ota/rollouts/health-observations.ts';
import { createRolloutService, type RolloutService } from '../../src/ota/rollouts/rollout-service.ts';
import { GroupService } from '../../src/groups/group-service.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import type { NewDevice } from '../../src/store/types.ts';
import { newRelease } from '../store/release-store.contract.ts';

export const t0 = Date.UTC(2026, 0, 1);
const logger = pino({ level: 'silent' });

export interface RolloutHarness {
  stores: Stores;
  service: RolloutService;
  deployments: DeploymentService;
  now(): number;
  /** Advances the clock to `ms` and runs one tick. */
  tickAt(ms: number): Promise<void>;
  /** Device ids offered an update so far. */
  offered(): Set<string>;
  /** A sensor-x rev-a device on 2.4.0 in eu, registered at the clock's now. */
  register(id: string, extra?: Partial<NewDevice>): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function rolloutHarness(
  file: string,
  options: { rescanIntervalMs?: number; telemetry?: TelemetryReader } = {},
): Promise<RolloutHarness> {
  let now = t0;
  const notified: Array<[string, UpdateNotify]> = [];
  const clock = { now: () => now };
  let stores = await openStores({ kind: 'sqlite', file });
  await stores.releases.createRelease(newRelease(), t0);

  function build() {
    const deployments = createDeploymentService({
      store: stores.updates,
      devices: stores.devices,
      releases: stores.releases,
      audit: stores.provisioning,
      clock,
      logger,
      notify: (deviceId, notify) => {
        notified.push([deviceId, notify]);
        return Promise.resolve();
      },
    });
    const service = createRolloutService(
      {
        store: stores.rollouts,
        devices: stores.devices,
        releases: stores.releases,
        updates: stores.updates,
        deployments,
        audit: stores.provisioning,
        clock,
        logger,
        ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        fleetQueries: (where) => new GroupService({ groups: stores.groups, clock }).parse(where),
      },
      options,
    );
    return { deployments, service };
  }
  let built = build();

  return {
    get stores() {
      return stores;
    },
    get service() {
      return built.service;
    },
    get deployments() {
      return built.deployments;
    },
    now: () => now,
    async tickAt(ms) {
      now = ms;
      await built.service.tick(now);
    },
    offered: () => new Set(notified.filter(([, n]) => n.offer !== null).map(([id]) => id)),
    async register(id, extra = {}) {
      await stores.devices.createDevice(
        {
          id,
          serial: `S-${id}`,
          hardwareModel: 'sensor-x',
          hardwareRevision: 'rev-a',
          firmwareVersion: '2.4.0',
          region: 'eu',
          ...extra,
        },
        now,
      );
    },
    async restart() {
      await stores.close();
      stores = await openStores({ kind: 'sqlite', file });
      built = build();
    },
    close: () => stores.close(),
  };
}
