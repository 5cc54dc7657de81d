/**
 * Zero-touch provisioning end to end: a factory batch, devices that make their key and CSR with
 * openssl, provisioning over MQTT and HTTPS, tokens, refusals with reasons, revocation with the
 * CRL, renewal, owners and the audit log; interop checked with openssl and mosquitto_pub.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { PNG } from 'pngjs';
import jsQRModule from 'jsqr';
import type { Device } from '../../src/contracts/device.ts';
import type { ProvisionResponse } from '../../src/contracts/provisioning-messages.ts';
import { deviceTopic } from '../../src/contracts/topics.ts';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import type { BatchCredential } from '../../src/provisioning/factory-service.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { opensslKeyAndCsr, run } from '../helpers/openssl.ts';
import {
  postWithCertificate,
  provisionOverMqtt,
  type ClaimCredential,
} from '../helpers/provisioning-client.ts';
import { waitFor } from '../helpers/wait.ts';

// jsqr is CommonJS with an `exports.default`: NodeNext types the default import as the module.
const jsQR = jsQRModule.default;

type Accepted = Extract<ProvisionResponse, { status: 'accepted' }>;

function accepted(response: ProvisionResponse): Accepted {
  assert.equal(response.status, 'accepted', JSON.stringify(response));
  return response;
}

function rejectedWith(response: ProvisionResponse, code: string): void {
  assert.equal(response.status, 'rejected', JSON.stringify(response));
  assert.equal(response.status === 'rejected' && response.code, code, JSON.stringify(response));
}

describe('zero-touch provisioning', () => {
  let fx: ServerFixture;
  let dir: string;
  let batch: BatchCredential;
  let other: BatchCredential;
  let claim: ClaimCredential;

  async function post<T>(path: string, body: unknown, method = 'POST'): Promise<{ status: number; body: T }> {
    const response = await fetch(`http://127.0.0.1:${fx.httpPort}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async function write(name: string, text: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  /** mosquitto_pub publishing one heartbeat with the given credentials; resolves to its exit code. */
  async function mosquittoPub(deviceId: string, auth: string[]): Promise<number> {
    const chain = await write('chain.pem', fx.server().pki.chainPem);
    try {
      await run('mosquitto_pub', [
        '--cafile',
        chain,
        ...auth,
        '-h',
        'localhost',
        '-p',
        String(fx.mqttPort),
        '-i',
        deviceId,
        '-q',
        '1',
        '-V',
        'mqttv311',
        '-t',
        deviceTopic(deviceId, 'heartbeat'),
        '-m',
        '{"uptimeS":1}',
      ]);
      return 0;
    } catch (error) {
      return (error as { code?: number }).code ?? 1;
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-prov-'));
    fx = await createServerFixture();
    const created = await post<BatchCredential>('/api/v1/factory/batches', {
      serials: ['SN-A', 'SN-B', 'SN-C', 'SN-D', 'SN-E'],
      hardwareModel: 'tracker-2',
      hardwareRevision: 'B',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    batch = created.body;
    claim = {
      certificatePem: batch.claim.certificatePem,
      keyPem: batch.claim.keyPem,
      caChainPem: batch.caChainPem,
    };
    other = (
      await post<BatchCredential>('/api/v1/factory/batches', {
        serials: ['SN-X1', 'SN-X2'],
        hardwareModel: 'gateway-x1',
        hardwareRevision: 'A',
        claimLimit: 1,
      })
    ).body;
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('provisions a device over MQTT from an openssl CSR; openssl verifies the certificate and mosquitto_pub connects with it', async () => {
    const { keyFile, csrPem } = await opensslKeyAndCsr(dir, 'sn-a', '/CN=SN-A/serialNumber=SN-A');
    const response = accepted(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-A', { serial: 'SN-A', csrPem }),
    );
    assert.equal(response.deviceId, 'SN-A');
    const certFile = await write('sn-a.pem', response.certificatePem ?? '');
    const root = await write('root.pem', fx.server().pki.rootCertPem);
    const issuing = await write('issuing.pem', fx.server().pki.issuingCertPem);
    const verified = await run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      root,
      '-untrusted',
      issuing,
      certFile,
    ]);
    assert.match(verified.stdout, /OK/);

    assert.equal(await mosquittoPub('SN-A', ['--cert', certFile, '--key', keyFile]), 0);
    const device = (await fx.api<Device>('/api/v1/devices/SN-A')).body;
    assert.equal(device.hardwareModel, 'tracker-2');
    assert.equal(device.hardwareRevision, 'B');
    assert.ok(device.lastSeenAt);
  });

  it('provisions over HTTPS with the claim certificate', async () => {
    const { csrPem } = await opensslKeyAndCsr(dir, 'sn-b', '/CN=SN-B');
    const response = await postWithCertificate(
      `${fx.server().deviceHttpUrl}/device/v1/provision`,
      { caPem: batch.caChainPem, certPem: claim.certificatePem, keyPem: claim.keyPem },
      { serial: 'SN-B', csrPem },
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(accepted(response.body).certificatePem?.includes('BEGIN CERTIFICATE'));
    const noCert = await postWithCertificate(
      `${fx.server().deviceHttpUrl}/device/v1/provision`,
      { caPem: batch.caChainPem },
      { serial: 'SN-E', csrPem },
    );
    assert.equal(noCert.status, 401);
    assert.equal((noCert.body as { code?: string }).code, 'unauthenticated');
  });

  it('issues a token to a device without TLS client certificates; mosquitto_pub logs in with it', async () => {
    const response = accepted(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-C', { serial: 'SN-C', credential: 'token' }),
    );
    assert.ok(response.token && response.token.length >= 40);
    assert.equal(await mosquittoPub('SN-C', ['-u', 'SN-C', '-P', response.token]), 0);
    assert.notEqual(await mosquittoPub('SN-C', ['-u', 'SN-C', '-P', 'not-the-token']), 0);
    await waitFor(async () => (await fx.api<Device>('/api/v1/devices/SN-C')).body.lastSeenAt !== null, {
      what: 'token device seen',
    });
  });

  it('refuses bad requests with a specific reason and registers nothing', async () => {
    const { csrPem } = await opensslKeyAndCsr(dir, 'sn-d', '/CN=SN-D/serialNumber=SN-D');
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-A', {
        serial: 'SN-A',
        csrPem: (await opensslKeyAndCsr(dir, 'again', '/CN=SN-A')).csrPem,
      }),
      'already_provisioned',
    );
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-ZZ', {
        serial: 'SN-ZZ',
        csrPem: (await opensslKeyAndCsr(dir, 'zz', '/CN=SN-ZZ')).csrPem,
      }),
      'unknown_serial',
    );
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-X1', {
        serial: 'SN-X1',
        csrPem: (await opensslKeyAndCsr(dir, 'x1', '/CN=SN-X1')).csrPem,
      }),
      'wrong_batch',
    );
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-D', {
        serial: 'SN-D',
        csrPem: (await opensslKeyAndCsr(dir, 'forged', '/CN=SN-E')).csrPem,
      }),
      'csr_subject_mismatch',
    );
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-D', {
        serial: 'SN-D',
        csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE REQUEST-----\n',
      }),
      'invalid_csr',
    );
    rejectedWith(await provisionOverMqtt(fx.mqttPort, claim, 'SN-D', '{"serial": 12'), 'malformed_request');
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, claim, 'SN-D', { serial: 'SN-E', csrPem }),
      'csr_subject_mismatch',
    );
    assert.equal((await fx.api('/api/v1/devices/SN-D')).status, 404, 'nothing half-registered');
    accepted(await provisionOverMqtt(fx.mqttPort, claim, 'SN-D', { serial: 'SN-D', csrPem }));

    const audit = (
      await fx.api<{ items: Array<{ action: string; target: string; details: { code?: string } }> }>(
        '/api/v1/audit?action=provisioning.refused&limit=100',
      )
    ).body.items;
    assert.deepEqual(
      new Set(audit.map((a) => a.details.code)),
      new Set([
        'already_provisioned',
        'unknown_serial',
        'wrong_batch',
        'csr_subject_mismatch',
        'invalid_csr',
        'malformed_request',
      ]),
    );
  });

  it('signs a CSR made on the factory line, once', async () => {
    const line = (
      await post<BatchCredential>('/api/v1/factory/batches', {
        serials: ['SN-F1'],
        hardwareModel: 'hsm-board',
        hardwareRevision: 'C',
      })
    ).body;
    const { keyFile, csrPem } = await opensslKeyAndCsr(dir, 'factory', '/CN=SN-F1/serialNumber=SN-F1');
    const signed = await post<ProvisionResponse>(`/api/v1/factory/batches/${line.batch.id}/csr`, { csrPem });
    assert.equal(signed.status, 200);
    const certFile = await write('factory.pem', accepted(signed.body).certificatePem ?? '');
    assert.equal(await mosquittoPub('SN-F1', ['--cert', certFile, '--key', keyFile]), 0);
    rejectedWith(
      (await post<ProvisionResponse>(`/api/v1/factory/batches/${line.batch.id}/csr`, { csrPem })).body,
      'already_provisioned',
    );
    rejectedWith(
      (await post<ProvisionResponse>(`/api/v1/factory/batches/${batch.batch.id}/csr`, { csrPem })).body,
      'wrong_batch',
    );
  });

  it('refuses an expired device certificate', async () => {
    const longAgo = Date.now() - 400 * 24 * 60 * 60 * 1000;
    const expired = await issueDeviceCert(
      fx.server().pki.issuingCa,
      { deviceId: 'SN-D', serial: 'SN-D', validityDays: 1 },
      longAgo,
    );
    assert.notEqual(
      await mosquittoPub('SN-D', [
        '--cert',
        await write('expired.pem', expired.certPem),
        '--key',
        await write('expired.key', expired.keyPem),
      ]),
      0,
    );
  });

  it('stops a claim credential at its usage limit', async () => {
    const otherClaim = {
      certificatePem: other.claim.certificatePem,
      keyPem: other.claim.keyPem,
      caChainPem: other.caChainPem,
    };
    accepted(
      await provisionOverMqtt(fx.mqttPort, otherClaim, 'SN-X1', {
        serial: 'SN-X1',
        csrPem: (await opensslKeyAndCsr(dir, 'x1b', '/CN=SN-X1')).csrPem,
      }),
    );
    rejectedWith(
      await provisionOverMqtt(fx.mqttPort, otherClaim, 'SN-X2', {
        serial: 'SN-X2',
        csrPem: (await opensslKeyAndCsr(dir, 'x2', '/CN=SN-X2')).csrPem,
      }),
      'claim_exhausted',
    );
  });

  it('disconnects a claim session that publishes outside its provisioning topic', async () => {
    const client = await mqtt.connectAsync(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: 'SN-E',
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: claim.caChainPem,
      cert: claim.certificatePem,
      key: claim.keyPem,
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(deviceTopic('SN-A', 'heartbeat'), '{"uptimeS":1}', { qos: 1 });
    await closed;
    client.end(true);
  });

  it('renews a certificate over the device connection and the new one works', async () => {
    const first = await opensslKeyAndCsr(dir, 'sn-e', '/CN=SN-E');
    const cert =
      accepted(await provisionOverMqtt(fx.mqttPort, claim, 'SN-E', { serial: 'SN-E', csrPem: first.csrPem }))
        .certificatePem ?? '';
    const device = await mqtt.connectAsync(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: 'SN-E',
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: batch.caChainPem,
      cert,
      key: first.keyPem,
    });
    const next = await opensslKeyAndCsr(dir, 'sn-e-2', '/CN=SN-E');
    const issued = new Promise<ProvisionResponse>((resolve) =>
      device.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as ProvisionResponse)),
    );
    await device.subscribeAsync(deviceTopic('SN-E', 'certificate/issued'), { qos: 1 });
    await device.publishAsync(
      deviceTopic('SN-E', 'certificate/renew'),
      JSON.stringify({ csrPem: next.csrPem }),
      { qos: 1 },
    );
    const renewed = accepted(await issued);
    await device.endAsync();
    assert.notEqual(renewed.certificatePem, cert);
    const certFile = await write('sn-e-2.pem', renewed.certificatePem ?? '');
    assert.equal(await mosquittoPub('SN-E', ['--cert', certFile, '--key', next.keyFile]), 0);
    const certs = (await fx.api<{ items: unknown[] }>('/api/v1/devices/SN-E/certificates')).body.items;
    assert.equal(certs.length, 2);
  });

  it('revokes a device: its live session closes at once, it is refused afterwards, and the CRL lists it', async () => {
    // SN-A's credentials from the first test.
    const certFile = join(dir, 'sn-a.pem');
    const keyFile = join(dir, 'sn-a.key');
    const live = await mqtt.connectAsync(`mqtts://localhost:${fx.mqttPort}`, {
      clientId: 'SN-A',
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: batch.caChainPem,
      cert: await readFile(certFile, 'utf8'),
      key: await readFile(keyFile, 'utf8'),
    });
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const revoked = await post<{ revokedCertificates: string[]; disconnected: boolean }>(
      '/api/v1/devices/SN-A/revoke',
      { reason: 'stolen' },
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.disconnected, true);
    assert.equal(revoked.body.revokedCertificates.length, 1);
    await closed;
    live.end(true);
    assert.notEqual(await mosquittoPub('SN-A', ['--cert', certFile, '--key', keyFile]), 0);
    // Over HTTPS the refusal names the reason: a known certificate, revoked.
    const renew = await postWithCertificate(
      `${fx.server().deviceHttpUrl}/device/v1/certificate/renew`,
      {
        caPem: batch.caChainPem,
        certPem: await readFile(certFile, 'utf8'),
        keyPem: await readFile(keyFile, 'utf8'),
      },
      { csrPem: 'not needed: refused before the body is read' },
    );
    assert.equal(renew.status, 401);
    assert.equal((renew.body as { code?: string }).code, 'revoked');

    const crl = await (await fetch(`http://127.0.0.1:${fx.httpPort}/pki/crl.pem`)).text();
    const crlFile = await write('crl.pem', crl);
    const chain = await write('chain-for-crl.pem', fx.server().pki.chainPem);
    const text = await run('openssl', ['crl', '-in', crlFile, '-CAfile', chain, '-noout', '-text']);
    assert.match(
      text.stdout + text.stderr,
      new RegExp(revoked.body.revokedCertificates[0] ?? 'missing', 'i'),
    );

    const audit = (
      await fx.api<{ items: Array<{ action: string }> }>('/api/v1/audit?target=SN-A')
    ).body.items.map((a) => a.action);
    assert.ok(audit.includes('device.provisioned') && audit.includes('device.revoked'), audit.join(','));
  });

  it('renders the owner-claim label as a scannable PNG and as SVG', async () => {
    const code = batch.devices.find((d) => d.serial === 'SN-B')?.claimCode ?? '';
    const png = await fetch(`http://127.0.0.1:${fx.httpPort}/api/v1/devices/SN-B/label?format=png`);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    const scanned = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    assert.equal(scanned?.data, `flotilla:claim:${code}`);
    const svg = await (
      await fetch(`http://127.0.0.1:${fx.httpPort}/api/v1/devices/SN-B/label?format=svg`)
    ).text();
    assert.match(svg, /SN-B/);
    assert.equal((await fx.api('/api/v1/devices/nope/label')).status, 404);
  });

  it('assigns an owner by claim code, refuses wrong codes, transfers and releases', async () => {
    const code = batch.devices.find((d) => d.serial === 'SN-B')?.claimCode ?? '';
    const wrong = await post<{ error: { code: string } }>('/api/v1/claims/redeem', {
      code: 'ZZZZ-ZZZZ-ZZZZ',
      owner: 'acme',
    });
    assert.equal(wrong.status, 403);
    const redeemed = await post<Device>('/api/v1/claims/redeem', { code: code.toLowerCase(), owner: 'acme' });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.body.owner, 'acme');
    const stolen = await post<{ error: { code: string } }>('/api/v1/claims/redeem', {
      code,
      owner: 'mallory',
    });
    assert.equal(stolen.status, 409);
    assert.equal(
      (await post<Device>('/api/v1/devices/SN-B/owner', { owner: 'globex' }, 'PUT')).body.owner,
      'globex',
    );
    const released = await fetch(`http://127.0.0.1:${fx.httpPort}/api/v1/devices/SN-B/owner`, {
      method: 'DELETE',
    });
    assert.equal(((await released.json()) as Device).owner, null);
  });
});
