/** The development PKI, checked by openssl (a verifier nobody here wrote). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { ensureDevPki, type DevPki } from '../../src/pki/dev-pki.ts';
import { issueDeviceCert } from '../../src/pki/x509.ts';

const run = promisify(execFile);

describe('development PKI', () => {
  let dir: string;
  let pki: DevPki;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-pki-'));
    pki = await ensureDevPki(dir, ['localhost', 'fleet.example.com', '10.0.0.5'], Date.now());
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes keys owner-only and reuses the CA on the next start', async () => {
    for (const key of [pki.paths.caKey, pki.paths.serverKey])
      assert.equal((await stat(key)).mode & 0o777, 0o600, key);
    const again = await ensureDevPki(dir, ['localhost'], Date.now());
    assert.equal(again.ca.certPem, pki.ca.certPem);
    assert.equal(again.server.certPem, pki.server.certPem);
  });

  it('issues a server certificate openssl accepts for TLS servers, with the configured names', async () => {
    const { stdout } = await run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      pki.paths.caCert,
      pki.paths.serverCert,
    ]);
    assert.match(stdout, /OK/);
    const cert = new X509Certificate(await readFile(pki.paths.serverCert));
    assert.match(cert.subjectAltName ?? '', /DNS:fleet\.example\.com/);
    assert.match(cert.subjectAltName ?? '', /IP Address:10\.0\.0\.5/);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  });

  it('issues device certificates openssl accepts for TLS clients, with CN = device id and the serial', async () => {
    const device = await issueDeviceCert(
      pki.signingCa,
      { deviceId: 'dev-42', serial: 'SN-42', validityDays: 30 },
      Date.now(),
    );
    const file = join(dir, 'dev-42.pem');
    await writeFile(file, device.certPem);
    const { stdout } = await run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      pki.paths.caCert,
      file,
    ]);
    assert.match(stdout, /OK/);
    const text = (await run('openssl', ['x509', '-in', file, '-noout', '-text'])).stdout;
    assert.match(text, /Subject: CN ?= ?dev-42, serialNumber ?= ?SN-42/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /Digital Signature/);
    assert.match(text, /TLS Web Client Authentication/);
    assert.match(text, /Subject Key Identifier/);
    assert.match(text, /Authority Key Identifier/);
    assert.match(text, /ASN1 OID: prime256v1/);
    const cert = new X509Certificate(device.certPem);
    assert.ok(cert.checkIssued(new X509Certificate(pki.ca.certPem)));
    // Random 128-bit positive serials: two certificates never share one.
    const other = new X509Certificate(
      (
        await issueDeviceCert(
          pki.signingCa,
          { deviceId: 'dev-43', serial: 'SN-43', validityDays: 1 },
          Date.now(),
        )
      ).certPem,
    );
    assert.notEqual(other.serialNumber, cert.serialNumber);
    assert.ok(cert.serialNumber.length >= 30);
  });
});
