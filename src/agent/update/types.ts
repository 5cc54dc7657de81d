/** Options, dependencies and the public handle of the update client. */
import type { UpdateStatus } from '../../contracts/update-messages.ts';
import type { Clock } from '../../infra/clock.ts';
import type { Timers } from '../../infra/timers.ts';
import type { AgentLogger } from '../types.ts';
import type { BootControl } from './boot-control.ts';
import type { Disk } from './disk.ts';
import type { HealthCheck } from './health.ts';
import type { SlotLayout } from './slots.ts';
import type { DeviceTls, HttpGet } from './transport.ts';
import type { applyPatch } from '../../ota/delta/bsdiff.ts';

/** Named points where every step's durable write has completed (tracing and fault injection). */
export type Checkpoint =
  | 'accepted'
  | 'planned'
  | 'part-synced'
  | 'downloaded'
  | 'installing'
  | 'slot-written'
  | 'trial-marked'
  | 'rebooting'
  | 'verifying'
  | 'committed'
  | 'reverting'
  | 'reverted'
  | 'finished';

export interface UpdateClientDeps {
  /** Every file the client writes goes through here (journal, part file, slots, file boot env). */
  disk: Disk;
  bootControl: BootControl;
  clock: Clock;
  timers: Timers;
  logger: AgentLogger;
  /** Sends a status report (MQTT `update/status` or HTTPS); seq is already assigned and persisted. */
  report: (status: UpdateStatus) => void | Promise<void>;
  /** Reboots the device. The client does nothing more in this process once it has called it. */
  reboot: () => Promise<void>;
  /** Default: createHttpGet(options.tls). */
  httpGet?: HttpGet;
  /** Default: the Debian-bspatch applyPatch of ota/delta/bsdiff.ts. */
  applyPatch?: typeof applyPatch;
  /** Called after each step's durable write (see Checkpoint). */
  checkpoint?: (name: Checkpoint) => void | Promise<void>;
}

export interface UpdateClientOptions {
  /** `https://host:port`; metadata under /device/v1/tuf/, signatures under /device/v1/artifacts/. */
  deviceHttpUrl: string;
  /** mTLS material; required for https: URLs. */
  tls?: DeviceTls;
  /** Holds update-state.json (the journal), update.part and scratch files. */
  stateDir: string;
  /** tuf-js metadata directory; must hold the trusted root.json shipped with the device. */
  tufMetadataDir: string;
  slots: SlotLayout;
  hardware: { model: string; revision: string };
  /** The image in the booted slot when the client runs the first time (no state file yet). */
  installed: { version: string; /** bytes; lets the client hash the slot for deltas */ length?: number };
  healthChecks: readonly HealthCheck[];
  /** Failed health rounds before rolling back; default 3. */
  healthRounds?: number;
  /** Pause between health rounds, in ms; default 10 000. */
  healthRetryDelayMs?: number;
  /** A file whose existence defers installing, or a callback returning true while locked. */
  updateLock?: string | (() => boolean | Promise<boolean>);
  /** minisign public key (file text or the base64 line); when set, images must carry a valid signature. */
  minisignPublicKey?: string;
  download?: {
    /** fsync and journal the part file every this many bytes; default 1 MiB. */
    syncEveryBytes?: number;
    /** Connection attempts per download; default 5. */
    attempts?: number;
    /** Pause between attempts, in ms; default 5000. */
    retryDelayMs?: number;
  };
}

export interface UpdateClient {
  /**
   * An offer from `update/notify` or `GET /device/v1/update` (validated here), or null when the
   * server withdrew it. Resolves when the client has nothing more to do: finished, waiting for
   * install(), or rebooting.
   */
  offer(offer: unknown): Promise<void>;
  /** Installs a downloaded update now (download-now-install-later, or after the lock clears). */
  install(): Promise<void>;
  /**
   * Re-checks a job parked at `downloaded`: installs it if installing was requested (an offer with
   * installNow, or install()), the offer's maintenance window is open and the update lock has
   * cleared; a download-later job stays parked.
   */
  resume(): Promise<void>;
  /** Call once at agent start: continues or concludes whatever the journal says was under way. */
  resumeAfterBoot(): Promise<void>;
  /** The version of the image in the booted slot (what the agent reports as its firmware). */
  bootedVersion(): Promise<string>;
  /** The deployment in progress and its step, for the agent's state; undefined when idle. */
  current(): { deploymentId: string; phase: string } | undefined;
}

export const UPDATE_CLIENT_DEFAULTS = {
  healthRounds: 3,
  healthRetryDelayMs: 10_000,
  syncEveryBytes: 1024 * 1024,
  attempts: 5,
  retryDelayMs: 5000,
} as const;
