/** Device and claim certificates, checked by openssl verify and by a real Node TLS handshake. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { ensureFleetPki, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { parseDeviceCsr } from '../../src/pki/csr.ts';
import { issueClaimCert, issueDeviceCertFromCsr } from '../../src/pki/device-certs.ts';
import { claimBatchId, claimCommonName, isClaimSubject } from '../../src/pki/claim-subject.ts';
import { EC_PARAM_P256, GENPKEY_P256, opensslCsr, opensslOk, tempDir, writeTemp } from './openssl.ts';

const NOW = Date.now();

describe('device and claim certificates', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let pki: FleetPki;
  const verifyClient = (certFile: string) =>
    opensslOk([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      pki.paths.rootCert,
      '-untrusted',
      pki.paths.issuingCert,
      certFile,
    ]);

  before(async () => {
    ({ dir, remove } = await tempDir('flotilla-device-'));
    pki = await ensureFleetPki(dir, [], NOW);
  });
  after(() => remove());

  for (const [how, keyArgs] of [
    ['ecparam', EC_PARAM_P256],
    ['genpkey', GENPKEY_P256],
  ] as const) {
    it(`issues from an openssl req CSR (${how} key) a certificate openssl verifies for sslclient`, async () => {
      // The CSR asks for a different subject: the certificate must carry ours only.
      const csrPem = await opensslCsr(dir, `dev-${how}`, [...keyArgs], '/O=Evil/CN=admin/serialNumber=X1');
      const parsed = await parseDeviceCsr(csrPem);
      assert.ok(parsed.ok);
      const issued = await issueDeviceCertFromCsr(
        pki.issuingCa,
        { deviceId: `dev-${how}`, serial: 'SN-7', publicKey: parsed.csr.publicKey, validityDays: 365 },
        NOW,
      );
      const certFile = await writeTemp(dir, `dev-${how}.pem`, issued.certPem);
      assert.match((await verifyClient(certFile)).stdout, /: OK/);

      const text = (await opensslOk(['x509', '-in', certFile, '-noout', '-text'])).stdout;
      assert.match(text, new RegExp(`Subject: CN ?= ?dev-${how}, serialNumber ?= ?SN-7\\n`));
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
      assert.match(text, /Extended Key Usage:\s+TLS Web Client Authentication\n/);
      assert.match(text, /Subject Key Identifier/);
      assert.match(text, /Authority Key Identifier/);

      // The certificate is for the key the device holds.
      const certKey = (await opensslOk(['x509', '-in', certFile, '-noout', '-pubkey'])).stdout;
      const deviceKey = (await opensslOk(['pkey', '-in', join(dir, `dev-${how}.key`), '-pubout'])).stdout;
      assert.equal(certKey, deviceKey);

      const serialLine = (await opensslOk(['x509', '-in', certFile, '-noout', '-serial'])).stdout;
      assert.equal(serialLine.trim().replace(/^serial=(00)*/, ''), issued.serialHex);
      assert.match(issued.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.ok(issued.notAfter.getTime() > NOW);
    });
  }

  it('issues a claim certificate with OU flotilla-claim that openssl verifies for sslclient', async () => {
    const claim = await issueClaimCert(pki.issuingCa, { batchId: 'b-7f3a', validityDays: 30 }, NOW);
    const certFile = await writeTemp(dir, 'claim.pem', claim.certPem);
    await verifyClient(certFile);
    const subject = (await opensslOk(['x509', '-in', certFile, '-noout', '-subject'])).stdout;
    assert.match(subject, /OU ?= ?flotilla-claim, CN ?= ?claim-b-7f3a/);
    assert.match(claim.keyPem, /BEGIN PRIVATE KEY/);
  });

  it('lets the gateway recognise a claim session from the TLS peer certificate', async () => {
    const claim = await issueClaimCert(pki.issuingCa, { batchId: 'b-42', validityDays: 30 }, NOW);
    const server = tls.createServer({
      cert: pki.server.certPem,
      key: pki.server.keyPem,
      ca: pki.chainPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const peer = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
      const client = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: await readFile(pki.paths.rootCert, 'utf8'),
        cert: `${claim.certPem.trimEnd()}\n${pki.issuingCertPem}`,
        key: claim.keyPem,
      });
      await once(client, 'secureConnect');
      const [socket] = await peer;
      const subject = socket.getPeerCertificate().subject as unknown as Record<string, string>;
      assert.equal(isClaimSubject(subject), true);
      assert.equal(claimBatchId(subject['CN'] ?? ''), 'b-42');
      assert.equal(socket.getPeerCertificate().serialNumber, claim.serialHex);
      client.destroy();
    } finally {
      server.close();
    }
  });

  it('tells claim subjects from device subjects', () => {
    assert.equal(isClaimSubject({ OU: 'flotilla-claim', CN: 'claim-b-1' }), true);
    assert.equal(isClaimSubject({ CN: 'claim-b-1' }), false);
    assert.equal(isClaimSubject({ OU: 'flotilla-claim', CN: 'dev-1' }), false);
    assert.equal(isClaimSubject({ OU: ['flotilla-claim', 'x'], CN: 'claim-b-1' }), false);
    assert.equal(claimBatchId('claim-'), undefined);
    assert.throws(() => claimCommonName('bad id/with slash'), RangeError);
  });
});
