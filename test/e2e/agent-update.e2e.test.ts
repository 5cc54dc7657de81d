// The agent daemon takes a firmware update from a real server, configured the way a device is:
// an `update` section with two slot files, the file boot backend, a reboot command and a custom
// health-check command. The daemon exits after asking for the reboot; the test plays the
// bootloader (bootloaderDecide on the env file) and starts the daemon again on the new slot.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import {
  bootloaderDecide,
  encodeFileBootEnv,
  parseFileBootEnv,
} from '../../src/agent/update/boot-file-env.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { prepareSimIdentities } from '../../src/sim/identities.ts';
import { simulatedImage } from '../../src/sim/sim-firmware.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const MODEL = 'pump-3';

describe('agent daemon firmware update', { timeout: 120_000 }, () => {
  let fx: ServerFixture;
  let dir: string;
  const v1 = simulatedImage(MODEL, '1.0.0');
  const v2 = simulatedImage(MODEL, '1.1.0');

  const api = (method: string, path: string, body?: unknown) => fx.request(method, path, body);

  before(async () => {
    fx = await createServerFixture();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-agent-update-'));
    for (const [version, image] of [
      ['1.0.0', v1],
      ['1.1.0', v2],
    ] as const) {
      await fx.publishRelease(MODEL, version, image);
    }
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads, installs, reboots into the new slot, passes its health check and commits', async () => {
    const [device] = simulatedFleet(1, 31).map((d) => ({ ...d, deviceId: 'pump-daemon-1' }));
    assert.ok(device);
    const prepared = await prepareSimIdentities(fx.dataDir, [device], Date.now(), 1);
    const identity = prepared.identities[0];
    assert.ok(identity);
    // The factory: certificate, slot a with v1, a boot env, and the TUF root shipped with the device.
    await writeFile(join(dir, 'ca.pem'), prepared.caPem);
    await writeFile(join(dir, 'device.pem'), identity.certPem);
    await writeFile(join(dir, 'device.key'), identity.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'slot-a.img'), v1);
    await writeFile(join(dir, 'bootenv.json'), encodeFileBootEnv({ primary: 'a', booted: 'a' }));
    await writeFile(join(dir, 'root.json'), await readFile(join(fx.dataDir, 'tuf', 'repo', '1.root.json')));
    const config = {
      deviceId: 'pump-daemon-1',
      serverUrl: `mqtts://127.0.0.1:${fx.mqttPort}`,
      caFile: 'ca.pem',
      certFile: 'device.pem',
      keyFile: 'device.key',
      serial: 'PUMP-1',
      hardware: { model: MODEL, revision: 'A' },
      firmwareVersion: '1.0.0',
      stateDir: 'state',
      backoff: { initialMs: 100, maxMs: 500 },
      update: {
        deviceHttpUrl: fx.server().deviceHttpUrl,
        tufRootFile: 'root.json',
        slots: { a: 'slot-a.img', b: 'slot-b.img' },
        installedLength: v1.length,
        boot: { kind: 'file', envFile: 'bootenv.json' },
        rebootCommand: ['true'],
        health: { connectWithinS: 10, command: ['true'], retryDelayS: 0 },
        pollIntervalS: 3600,
      },
    };
    const configPath = join(dir, 'agent.json');
    await writeFile(configPath, JSON.stringify(config));
    const deps = { clock: { now: () => Date.now() }, timers: systemTimers, random: Math.random, logger };
    const reported = async (version: string) =>
      (await api('GET', '/api/v1/devices/pump-daemon-1')).body['firmwareVersion'] === version;

    // First boot: the daemon runs until it asks for the reboot after writing slot b.
    const firstRun = runAgentDaemon(configPath, deps);
    await waitFor(() => reported('1.0.0'), { timeoutMs: 20_000 });
    const deployed = await api('POST', '/api/v1/firmware/deployments', { model: MODEL, version: '1.1.0' });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.body));
    await firstRun;
    assert.deepEqual(await readFile(join(dir, 'slot-b.img')), v2);

    // Power-on: the bootloader boots the trial slot once.
    const env = bootloaderDecide(parseFileBootEnv(await readFile(join(dir, 'bootenv.json'))));
    assert.equal(env.booted, 'b');
    await writeFile(join(dir, 'bootenv.json'), encodeFileBootEnv(env));

    const shutdown = new AbortController();
    const secondRun = runAgentDaemon(configPath, { ...deps, shutdownSignal: shutdown.signal });
    const id = ((deployed.body['deployment'] as Record<string, unknown>)['id'] as string) ?? '';
    await waitFor(
      async () => {
        const summary = (await api('GET', `/api/v1/firmware/deployments/${id}`)).body;
        return (summary['counts'] as Record<string, number>)['success'] === 1;
      },
      { timeoutMs: 30_000 },
    );
    await waitFor(() => reported('1.1.0'));
    shutdown.abort();
    await secondRun;
    // Committed: slot b is now the primary, with no trial pending.
    assert.deepEqual(parseFileBootEnv(await readFile(join(dir, 'bootenv.json'))), {
      primary: 'b',
      booted: 'b',
    });
  });
});
