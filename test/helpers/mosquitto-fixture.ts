/**
 * A real Mosquitto for agent and simulator tests: a TLS listener that requires a client
 * certificate from the dev CA (username = CN, ACL `fl/d/%u/#`), and a plain anonymous listener
 * on 127.0.0.1 that test observers use to see everything. See docs notes interop.md section 4.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, waitFor } from './wait.ts';
import { ensureFleetPki, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { issueDeviceCert, type KeyPairPem } from '../../src/pki/x509.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';

export interface MosquittoFixture {
  dataDir: string;
  pki: FleetPki;
  tlsPort: number;
  plainPort: number;
  /** `mqtts://127.0.0.1:<tlsPort>` — the server certificate has SAN IP 127.0.0.1. */
  tlsUrl: string;
  /** (Re)starts mosquitto on the same ports and waits until both listeners accept. */
  start(): Promise<void>;
  /** SIGKILL, like a crash; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Kills mosquitto and removes the temp dir. */
  close(): Promise<void>;
  /** Mosquitto's log, for failure messages. */
  log(): string;
}

export async function startMosquitto(): Promise<MosquittoFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-mosq-'));
  const pki = await ensureFleetPki(dataDir, ['localhost'], Date.now());
  const [tlsPort, plainPort] = [await freePort(), await freePort()];
  const aclFile = join(dataDir, 'acl');
  await writeFile(aclFile, 'pattern readwrite fl/d/%u/#\n');
  const confFile = join(dataDir, 'mosquitto.conf');
  await writeFile(
    confFile,
    [
      // Mosquitto started as root drops privileges before reading the 0600 key otherwise.
      'user root',
      'per_listener_settings true',
      'log_dest stderr',
      `listener ${plainPort} 127.0.0.1`,
      'allow_anonymous true',
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${pki.paths.chain}`,
      `certfile ${pki.paths.serverCert}`,
      `keyfile ${pki.paths.serverKey}`,
      'require_certificate true',
      'use_identity_as_username true',
      `acl_file ${aclFile}`,
      '',
    ].join('\n'),
  );

  let proc: ChildProcess | undefined;
  let logText = '';
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGKILL');
    await exited;
  };
  const start = async () => {
    await kill();
    const p = spawn(MOSQUITTO, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    p.stderr?.on('data', (chunk: Buffer) => (logText += chunk.toString('utf8')));
    proc = p;
    await waitFor(async () => (await canConnect(plainPort)) && (await canConnect(tlsPort)), {
      what: `mosquitto listening on ${plainPort}/${tlsPort}; log:\n${logText}`,
    });
  };
  await start();
  return {
    dataDir,
    pki,
    tlsPort,
    plainPort,
    tlsUrl: `mqtts://127.0.0.1:${tlsPort}`,
    start,
    kill,
    close: async () => {
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
    log: () => logText,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ObservedMessage {
  topic: string;
  payload: unknown;
}

/** An anonymous client on the plain listener that records every `fl/d/#` message as JSON. */
export async function startObserver(
  plainPort: number,
): Promise<{ client: MqttClient; messages: ObservedMessage[] }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${plainPort}`, { reconnectPeriod: 100 });
  const messages: ObservedMessage[] = [];
  client.on('message', (topic, payload) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = payload.toString('utf8');
    }
    messages.push({ topic, payload: parsed });
  });
  await client.subscribeAsync('fl/d/#', { qos: 1 });
  return { client, messages };
}

export function deviceCert(pki: FleetPki, deviceId: string): Promise<KeyPairPem> {
  return issueDeviceCert(pki.issuingCa, { deviceId, serial: `SN-${deviceId}`, validityDays: 1 }, Date.now());
}
