/**
 * One provisioning exchange over MQTT: a claim session (claim certificate, client id = serial)
 * subscribes to `fl/provision/{serial}/response`, publishes the request to
 * `fl/provision/{serial}/request` (both QoS 1) and waits for the answer. Throws
 * ProvisioningTransportError when the exchange does not complete; the caller retries.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { provisionTopic } from '../contracts/topics.ts';
import type { ProvisionRequest } from '../contracts/provisioning-messages.ts';
import type { Timers } from '../infra/timers.ts';
import { mqttTlsOptions } from './connect-options.ts';
import { closeClient } from './mqtt-close.ts';
import { ProvisioningTransportError } from './provisioning-errors.ts';

export interface ClaimSession {
  serial: string;
  /** `mqtts://host:port` */
  url: string;
  claim: { certPem: string; keyPem: string };
  caChainPem: string;
  /** Bound on connecting and on waiting for the response, in milliseconds. */
  timeoutMs: number;
  timers: Timers;
  /** Ends the exchange early (the daemon is stopping). */
  signal?: AbortSignal | undefined;
}

/** Resolves with the raw response payload (validated by the caller). */
export async function exchangeOverMqtt(session: ClaimSession, request: ProvisionRequest): Promise<string> {
  const { serial, timers } = session;
  const client = mqtt.connect({
    ...mqttTlsOptions({
      url: session.url,
      clientId: serial,
      tls: { caPem: session.caChainPem, ...session.claim },
      keepaliveS: Math.max(5, Math.ceil(session.timeoutMs / 1000)),
    }),
    connectTimeout: session.timeoutMs,
  });
  let answered = false;
  try {
    const payload = await awaitResponse(client, session, JSON.stringify(request));
    answered = true;
    return payload;
  } finally {
    // After an answer the request was acknowledged: a clean DISCONNECT; otherwise just drop it.
    await closeClient(client, !answered, timers);
  }
}

function awaitResponse(client: MqttClient, session: ClaimSession, body: string): Promise<string> {
  const { timers, signal } = session;
  const responseTopic = provisionTopic(session.serial, 'response');
  return new Promise<string>((resolve, reject) => {
    let lastError: Error | undefined;
    const cleanup = () => {
      timers.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (why: string) => {
      cleanup();
      reject(new ProvisioningTransportError(why));
    };
    const onAbort = () => fail('aborted');
    const timer = timers.setTimeout(
      () => fail(`no provisioning response within ${session.timeoutMs} ms`),
      session.timeoutMs,
    );
    // An EventEmitter without an 'error' listener throws; the close handler reports the error.
    client.on('error', (err) => (lastError = err));
    client.on('close', () => fail(`connection closed: ${lastError?.message ?? 'by the server'}`));
    client.on('message', (topic, payload) => {
      if (topic !== responseTopic) return;
      cleanup();
      resolve(payload.toString('utf8'));
    });
    client.on('connect', () => {
      // Subscribe before publishing, or the response could arrive before anyone listens.
      client.subscribe(responseTopic, { qos: 1 }, (err, granted) => {
        if (err) return fail(`subscribe failed: ${err.message}`);
        // SUBACK 0x80: the broker refused the subscription (MQTT 3.1.1 section 3.9.3).
        if (granted?.[0]?.qos === 128) return fail(`subscription to ${responseTopic} refused`);
        client.publish(provisionTopic(session.serial, 'request'), body, { qos: 1 }, (error) => {
          if (error) fail(`publish failed: ${error.message}`);
        });
      });
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
