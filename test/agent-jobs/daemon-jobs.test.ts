/**
 * The daemon's `jobs` and `commands` config, and the daemon running jobs against a real Mosquitto:
 * a custom command from the config, and a reboot that stops the daemon and is reported succeeded by
 * the next start.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { JobProgress, JobRun } from '../../src/contracts/job-messages.ts';
import { parseAgentConfig } from '../../src/agent/config.ts';
import { runAgentDaemon } from '../../src/agent/daemon.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import {
  deviceCert,
  startMosquitto,
  startObserver,
  type MosquittoFixture,
  type ObservedMessage,
} from '../helpers/mosquitto-fixture.ts';
import { waitFor } from '../helpers/wait.ts';
import { quietLogger } from './fake-device.ts';

const base = {
  deviceId: 'dev-jobs',
  serverUrl: 'mqtts://127.0.0.1:8883',
  caFile: 'pki/chain.pem',
  certFile: 'dev-jobs.pem',
  keyFile: 'dev-jobs.key',
  serial: 'SN-dev-jobs',
  hardware: { model: 'gateway-x1', revision: '1.1' },
  firmwareVersion: '1.8.0',
};

describe('jobs config', () => {
  it('takes commands and jobs settings with defaults', () => {
    const config = parseAgentConfig(
      JSON.stringify({ ...base, commands: [{ name: 'restart-app', argv: ['systemctl', 'restart', 'app'] }] }),
      'agent.json',
    );
    assert.deepEqual(config.commands, [
      { name: 'restart-app', argv: ['systemctl', 'restart', 'app'], timeoutS: 60 },
    ]);
    assert.equal(config.jobs.enabled, true);
    assert.deepEqual(config.jobs.logFiles, []);
    assert.equal(config.jobs.rebootCommand, undefined);
  });

  it('names the field of a bad command', () => {
    const message = (commands: unknown) => {
      try {
        parseAgentConfig(JSON.stringify({ ...base, commands }), 'agent.json');
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.message;
      }
      return assert.fail('expected a ConfigError');
    };
    assert.match(message([{ name: 'Bad Name', argv: ['x'] }]), /commands\.0\.name: a command name/);
    assert.match(message([{ name: 'ok', argv: [] }]), /commands\.0\.argv/);
    assert.match(
      message([
        { name: 'a', argv: ['x'] },
        { name: 'a', argv: ['y'] },
      ]),
      /commands: command names must be unique/,
    );
  });
});

describe('daemon runs jobs', () => {
  let broker: MosquittoFixture;
  let observer: { client: MqttClient; messages: ObservedMessage[] };
  before(async () => {
    broker = await startMosquitto();
    observer = await startObserver(broker.plainPort);
  });
  after(async () => {
    await observer?.client.endAsync(true);
    await broker?.close();
  });

  const progress = (executionId: string) =>
    observer.messages
      .filter((m) => m.topic === 'fl/d/dev-jobs/jobs/status')
      .map((m) => m.payload as JobProgress)
      .filter((p) => p.kind === 'progress' && p.executionId === executionId);
  const notify = (run: Omit<JobRun, 'kind' | 'jobId' | 'attempt' | 'deadlineMs'>) =>
    observer.client.publishAsync(
      'fl/d/dev-jobs/jobs/notify',
      JSON.stringify({ kind: 'run', jobId: 'j', attempt: 1, deadlineMs: Date.now() + 60_000, ...run }),
      { qos: 1 },
    );

  it('runs a configured command, and reports a reboot once the daemon started again', async () => {
    const cert = await deviceCert(broker.pki, 'dev-jobs');
    await writeFile(join(broker.dataDir, 'dev-jobs.pem'), cert.certPem);
    await writeFile(join(broker.dataDir, 'dev-jobs.key'), cert.keyPem, { mode: 0o600 });
    await mkdir(join(broker.dataDir, 'state-jobs'), { recursive: true });
    const configPath = join(broker.dataDir, 'agent-jobs.json');
    await writeFile(
      configPath,
      JSON.stringify({
        ...base,
        serverUrl: broker.tlsUrl,
        stateDir: 'state-jobs',
        telemetry: false,
        jobs: { rebootCommand: ['true'] },
        commands: [
          { name: 'hello', argv: [process.execPath, '-e', 'process.stdout.write("hi")'], timeoutS: 30 },
        ],
      }),
    );
    const start = () =>
      runAgentDaemon(configPath, {
        clock: { now: () => Date.now() },
        timers: systemTimers,
        random: Math.random,
        logger: quietLogger,
        shutdownSignal: new AbortController().signal,
      });
    const capabilities = () =>
      observer.messages.filter(
        (m) =>
          m.topic === 'fl/d/dev-jobs/jobs/status' && (m.payload as { kind: string }).kind === 'capabilities',
      ).length;

    const first = start();
    await waitFor(() => capabilities() === 1, { what: 'capabilities' });
    await notify({ executionId: 'd-cmd', operation: 'command', command: 'hello', params: {} });
    await waitFor(() => progress('d-cmd').length === 2, { what: 'command outcome' });
    assert.equal(progress('d-cmd')[1]?.state, 'succeeded');
    assert.equal(progress('d-cmd')[1]?.result?.['stdout'], 'hi');

    await notify({ executionId: 'd-reboot', operation: 'reboot', params: {} });
    await first; // the reboot command ran: the daemon stopped, as the device goes down
    assert.deepEqual(
      progress('d-reboot').map((p) => p.state),
      ['in-progress'],
    );

    const shutdown = new AbortController();
    const second = runAgentDaemon(configPath, {
      clock: { now: () => Date.now() },
      timers: systemTimers,
      random: Math.random,
      logger: quietLogger,
      shutdownSignal: shutdown.signal,
    });
    await waitFor(() => progress('d-reboot').length === 2, { what: 'reboot outcome' });
    assert.equal(progress('d-reboot')[1]?.state, 'succeeded');
    // A redelivery is answered from the book: no second reboot, the daemon keeps running.
    await notify({ executionId: 'd-reboot', operation: 'reboot', params: {} });
    await waitFor(() => progress('d-reboot').length === 3, { what: 'duplicate answered' });
    assert.equal(progress('d-reboot')[2]?.state, 'succeeded');
    shutdown.abort();
    await second;
  });
});
