/**
 * The agent daemon with a stateDir takes remote configuration from a real server: live keys at
 * once, a restart key (log level) pending until the daemon starts again, then applied to its
 * logger; the state survives in `<stateDir>/config.json`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import type { DeviceConfigView } from '../../src/device-config/config-api.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const ID = 'dmn-cfg-1';

describe('agent daemon remote configuration', () => {
  let fx: ServerFixture;
  let dir: string;
  let configFile: string;

  const view = async () => {
    const { status, body } = await fx.api<DeviceConfigView>(`/api/v1/devices/${ID}/config`);
    return status === 200 ? body : undefined;
  };

  /** A real pino logger at `info`, writing nowhere (the daemon may change its level). */
  const quietLogger = () => createLogger('info', new Writable({ write: (_chunk, _enc, done) => done() }));

  function start(logger = quietLogger()) {
    const stop = new AbortController();
    const done = runAgentDaemon(configFile, {
      clock: systemClock,
      timers: systemTimers,
      random: Math.random,
      logger,
      shutdownSignal: stop.signal,
      signals: { once: () => undefined, off: () => undefined },
    });
    const daemon = { logger, stop: () => (stop.abort(), done) };
    running.push(daemon);
    return daemon;
  }
  /** Every daemon started, stopped again in `after` so a failed assertion cannot keep the process alive. */
  const running: Array<{ stop: () => Promise<unknown> }> = [];

  before(async () => {
    fx = await createServerFixture();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-daemon-config-'));
    const pair = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: ID, serial: `SN-${ID}`, validityDays: 1 },
      Date.now(),
    );
    await writeFile(join(dir, 'ca.pem'), fx.server().pki.chainPem);
    await writeFile(join(dir, 'device.pem'), pair.certPem);
    await writeFile(join(dir, 'device.key'), pair.keyPem);
    configFile = join(dir, 'agent.json');
    await writeFile(
      configFile,
      JSON.stringify({
        deviceId: ID,
        serverUrl: `mqtts://localhost:${fx.mqttPort}`,
        caFile: 'ca.pem',
        certFile: 'device.pem',
        keyFile: 'device.key',
        serial: `SN-${ID}`,
        hardware: { model: 'gw-1', revision: 'A' },
        firmwareVersion: '1.0.0',
        stateDir: 'state',
        telemetry: false,
      }),
    );
  });

  after(async () => {
    await Promise.all(running.map((daemon) => daemon.stop()));
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies live keys, keeps the log level for the next start, then applies it', async () => {
    const first = start();
    await waitFor(async () => (await view())?.inSync === true, { what: 'daemon declared its schema' });
    const put = await fx.request('PUT', `/api/v1/devices/${ID}/config`, {
      set: { 'log.level': 'debug', 'heartbeat.intervalS': 2 },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await waitFor(async () => (await view())?.pendingRestart.includes('log.level') === true, {
      what: 'log level pending restart',
    });
    const pending = await view();
    assert.equal(pending?.reported?.values['heartbeat.intervalS'], 2);
    assert.equal(first.logger.level, 'info');
    await first.stop();
    const saved = JSON.parse(await readFile(join(dir, 'state', 'config.json'), 'utf8')) as {
      pending: Record<string, unknown>;
    };
    assert.deepEqual(saved.pending, { 'log.level': 'debug' });

    const second = start();
    await waitFor(async () => (await view())?.inSync === true, { what: 'restart key applied' });
    assert.equal(second.logger.level, 'debug');
    assert.equal((await view())?.reported?.values['log.level'], 'debug');
    await second.stop();
  });
});
