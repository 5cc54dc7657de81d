/** A device's side of zero-touch provisioning over MQTT and HTTPS, for tests. */
import { request } from 'node:https';
import mqtt from 'mqtt';
import type { ProvisionResponse } from '../../src/contracts/provisioning-messages.ts';
import { provisionTopic } from '../../src/contracts/topics.ts';

export interface ClaimCredential {
  certificatePem: string;
  keyPem: string;
  caChainPem: string;
}

/** Connects with the claim credential as `serial`, publishes `body`, and returns the response. */
export async function provisionOverMqtt(
  mqttPort: number,
  claim: ClaimCredential,
  serial: string,
  body: unknown,
): Promise<ProvisionResponse> {
  const client = await mqtt.connectAsync(`mqtts://localhost:${mqttPort}`, {
    clientId: serial,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ca: claim.caChainPem,
    cert: claim.certificatePem,
    key: claim.keyPem,
  });
  try {
    const response = new Promise<ProvisionResponse>((resolve) =>
      client.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()) as ProvisionResponse)),
    );
    await client.subscribeAsync(provisionTopic(serial, 'response'), { qos: 1 });
    await client.publishAsync(
      provisionTopic(serial, 'request'),
      typeof body === 'string' ? body : JSON.stringify(body),
      { qos: 1 },
    );
    return await response;
  } finally {
    await client.endAsync();
  }
}

/** POSTs JSON over HTTPS with a client certificate; returns status and parsed body. */
export function postWithCertificate(
  url: string,
  tls: { caPem: string; certPem?: string; keyPem?: string },
  body: unknown,
): Promise<{ status: number; body: ProvisionResponse }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: tls.caPem,
        cert: tls.certPem,
        key: tls.keyPem,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ProvisionResponse }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
