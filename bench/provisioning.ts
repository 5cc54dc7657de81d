/**
 * Zero-touch provisionings per second end to end: claim connect → CSR → certificate → reconnect
 * with the device's own identity and report state, for one factory batch, against `flotilla server`
 * in its own process.
 */
import { createAgent } from '../src/agent/agent.ts';
import { provisionDevice } from '../src/agent/provisioning.ts';
import type { Agent } from '../src/agent/types.ts';
import { createProgressBar } from '../src/cli/progress.ts';
import { systemClock } from '../src/infra/clock.ts';
import { createLogger } from '../src/infra/logger.ts';
import { systemTimers } from '../src/infra/timers.ts';
import { forEachConcurrent } from '../src/sim/pool.ts';
import type { MeasuredProcess } from './processes.ts';

export interface ProvisioningResult {
  devices: number;
  concurrency: number;
  perS: number;
  totalMs: number;
  refused: number;
}

interface BatchResponse {
  claim: { certificatePem: string; keyPem: string };
  caChainPem: string;
  devices: Array<{ serial: string }>;
}

export async function measureProvisioning(
  server: MeasuredProcess & { httpPort: number; mqttPort: number; authorization: string },
  devices: number,
  concurrency: number,
): Promise<ProvisioningResult> {
  const serials = Array.from(
    { length: devices },
    (_, i) => `PB-${Date.now().toString(36)}-${String(i).padStart(6, '0')}`,
  );
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/factory/batches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: server.authorization },
    body: JSON.stringify({ serials, hardwareModel: 'bench-board', hardwareRevision: 'A' }),
  });
  if (response.status !== 201)
    throw new Error(`batch creation failed: HTTP ${response.status} ${await response.text()}`);
  const batch = (await response.json()) as BatchResponse;
  const deps = {
    clock: systemClock,
    timers: systemTimers,
    random: Math.random,
    logger: createLogger('warn'),
  };
  const mqttUrl = `mqtts://localhost:${server.mqttPort}`;
  const agents: Agent[] = [];
  let refused = 0;
  let done = 0;
  process.stderr.write(`flotilla: ${devices} devices provisioning themselves, ${concurrency} at a time\n`);
  const bar = createProgressBar(devices, 'operational');
  const started = performance.now();
  await forEachConcurrent(serials, concurrency, async (serial) => {
    try {
      const identity = await provisionDevice(deps, {
        transport: 'mqtt',
        mqttUrl,
        serial,
        claim: { certPem: batch.claim.certificatePem, keyPem: batch.claim.keyPem },
        caChainPem: batch.caChainPem,
      });
      await new Promise<void>((resolve) => {
        const agent = createAgent(deps, {
          deviceId: identity.deviceId,
          serverUrl: mqttUrl,
          tls: { caPem: identity.caChainPem, certPem: identity.certPem, keyPem: identity.keyPem },
          identity: { serial, hardware: { model: 'bench-board', revision: 'A' } },
          firmwareVersion: '1.0.0',
          heartbeatIntervalS: 300,
          onConnected: () => resolve(),
        });
        agents.push(agent);
        agent.start();
      });
    } catch (error) {
      refused += 1;
      process.stderr.write(`${serial}: ${(error as Error).message}\n`);
    }
    bar.update(++done);
  });
  const totalMs = performance.now() - started;
  bar.finish(done);
  await Promise.all(agents.map((agent) => agent.stop()));
  return { devices, concurrency, perS: (devices - refused) / (totalMs / 1000), totalMs, refused };
}
