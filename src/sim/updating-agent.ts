/**
 * A simulated device that takes firmware updates: the real agent and the real update client, with
 * two slot files and a file boot env in the device's directory. A reboot stops the agent, runs the
 * simulated bootloader's power-on decision, and starts a fresh agent and client on the booted slot,
 * exactly as a device would come back; the handle keeps pointing at whichever agent is current.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Agent, AgentDeps, AgentOptions } from '../agent/types.ts';
import {
  createUpdatingAgent as createUpdatingAgentCore,
  type UpdatingAgent,
} from '../agent/update-wiring.ts';
import {
  bootloaderDecide,
  createFileBootControl,
  encodeFileBootEnv,
  parseFileBootEnv,
} from '../agent/update/boot-file-env.ts';
import { nodeDisk } from '../agent/update/disk.ts';
import type { DeviceTelemetry } from '../agent/telemetry/device-telemetry.ts';
import type { UpdateClientOptions } from '../agent/update/types.ts';
import { errorRateFactor, isHealthyImage } from './sim-firmware.ts';
import { currentBootAgent } from './current-boot-agent.ts';

export interface SimUpdateOptions {
  /** `https://host:port` of the device API (offers, TUF metadata, images). */
  deviceHttpUrl: string;
  /** The TUF root the device trusts (shipped with it; the simulator fetches it once). */
  trustedRoot: Buffer;
  /** Image in slot a on first start (the device's factory image). */
  initialImage: (model: string, version: string) => Buffer;
  /** Listen for pushed offers (`update/notify`); false = learn of updates by pulling only. Default true. */
  push?: boolean;
  /** Seconds between offer pulls; default the agent's 6 h. */
  pollIntervalS?: number;
  /** How long a trial boot may take to reach the server, in ms; default 60 s. */
  connectWithinMs?: number;
  /** Pause between failed health rounds, in ms; default 10 s. */
  healthRetryDelayMs?: number;
  /** Download retries (attempts, pause); default the update client's. */
  download?: UpdateClientOptions['download'];
  /**
   * Telemetry, opened at every boot: the booted image decides the error rate (errorRateFactor),
   * the boot reason is `power_on` on the first boot and `update` after a reboot it asked for.
   */
  telemetry?: (boot: { errorFactor: number; bootReason: string }) => Promise<DeviceTelemetry>;
}

/** An agent that survives its own reboots; `start()` boots the device. */
export function createUpdatingAgent(
  deps: AgentDeps,
  agentOptions: AgentOptions,
  update: SimUpdateOptions,
  dir: string,
): Agent {
  const paths = {
    a: join(dir, 'slot-a.img'),
    b: join(dir, 'slot-b.img'),
    env: join(dir, 'bootenv.json'),
    state: join(dir, 'update'),
    tuf: join(dir, 'tuf'),
  };
  const { model, revision } = agentOptions.identity.hardware;
  let current: UpdatingAgent | undefined;
  let telemetry: DeviceTelemetry | undefined;
  let bootReason = 'power_on';
  let powered = false;
  let booting: Promise<void> = Promise.resolve();

  async function factoryInstall(): Promise<number> {
    await mkdir(paths.state, { recursive: true });
    await mkdir(paths.tuf, { recursive: true });
    try {
      return (await stat(paths.a)).size;
    } catch {
      const image = update.initialImage(model, agentOptions.firmwareVersion);
      await writeFile(paths.a, image);
      await writeFile(paths.env, encodeFileBootEnv({ primary: 'a', booted: 'a' }));
      await writeFile(join(paths.tuf, 'root.json'), update.trustedRoot);
      return image.length;
    }
  }

  /** Power-on: the bootloader picks a slot, then the firmware in it starts the agent. */
  async function boot(): Promise<void> {
    const factoryLength = await factoryInstall();
    const env = bootloaderDecide(parseFileBootEnv(await readFile(paths.env)));
    await writeFile(paths.env, encodeFileBootEnv(env));
    const image = await readFile(paths[env.booted]);
    const booted = update.telemetry
      ? await update.telemetry({ errorFactor: errorRateFactor(image), bootReason })
      : undefined;
    telemetry = booted;
    current = await createUpdatingAgentCore(deps, {
      agent: booted ? booted.agentOptions(agentOptions) : agentOptions,
      client: {
        deviceHttpUrl: update.deviceHttpUrl,
        stateDir: paths.state,
        tufMetadataDir: paths.tuf,
        slots: { paths: { a: paths.a, b: paths.b } },
        hardware: { model, revision },
        installed: { version: agentOptions.firmwareVersion, length: factoryLength },
        ...(update.healthRetryDelayMs !== undefined ? { healthRetryDelayMs: update.healthRetryDelayMs } : {}),
        ...(update.download !== undefined ? { download: update.download } : {}),
      },
      clientDeps: {
        disk: nodeDisk,
        bootControl: createFileBootControl(nodeDisk, paths.env),
        reboot: () => {
          // Not awaited: the client stops doing anything once it has asked for the reboot.
          booting = booting.then(reboot);
          return Promise.resolve();
        },
      },
      // The simulated application: stands in for the custom command of a real device.
      extraHealthChecks: [{ name: 'application', run: () => Promise.resolve(isHealthyImage(image)) }],
      connectWithinMs: update.connectWithinMs ?? 60_000,
      push: update.push !== false,
      ...(update.pollIntervalS !== undefined ? { pollIntervalS: update.pollIntervalS } : {}),
    });
    booted?.attach(current.agent);
    booted?.start();
    current.start();
  }

  async function shutdown(): Promise<void> {
    const running = current;
    const open = telemetry;
    current = undefined;
    telemetry = undefined;
    await open?.stop();
    if (!running) return;
    await running.stop();
  }

  async function reboot(): Promise<void> {
    if (!powered) return;
    bootReason = 'update';
    await shutdown();
    if (powered) await boot();
  }

  return currentBootAgent(agentOptions.deviceId, () => current?.agent, {
    start() {
      if (powered) return;
      powered = true;
      booting = booting.then(boot).catch((err: unknown) => {
        deps.logger.error({ deviceId: agentOptions.deviceId, err: (err as Error).message }, 'boot failed');
      });
    },
    async stop() {
      powered = false;
      await booting;
      await shutdown();
    },
  });
}
