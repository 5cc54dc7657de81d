/** Device CSRs: accepted from openssl req with either way of making a P-256 key, refused otherwise. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseDeviceCsr } from '../../src/pki/csr.ts';
import { splitPem, toPem } from '../../src/pki/pem.ts';
import { EC_PARAM_P256, EC_PARAM_P384, GENPKEY_P256, GENPKEY_RSA, opensslCsr, tempDir } from './openssl.ts';

describe('parseDeviceCsr', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let ecparamCsr: string;
  before(async () => {
    ({ dir, remove } = await tempDir('flotilla-csr-'));
    ecparamCsr = await opensslCsr(dir, 'SN1', EC_PARAM_P256);
  });
  after(() => remove());

  it('accepts a CSR from openssl req with an ecparam prime256v1 key and reads the subject', async () => {
    const result = await parseDeviceCsr(ecparamCsr);
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.deepEqual(result.csr.subject, { commonName: 'SN1', serialNumber: 'SN1' });
    assert.equal(result.csr.publicKey.type, 'public');
    assert.match(result.csr.spkiSha256, /^[0-9a-f]{64}$/);
  });

  it('accepts a CSR from openssl req with a genpkey P-256 key', async () => {
    const pem = await opensslCsr(dir, 'SN2', GENPKEY_P256, '/O=Acme/CN=SN2/serialNumber=SN2');
    const result = await parseDeviceCsr(pem);
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.deepEqual(result.csr.subject, { commonName: 'SN2', serialNumber: 'SN2' });
  });

  it('fingerprints the key as the SHA-256 of its SubjectPublicKeyInfo', async () => {
    const result = await parseDeviceCsr(ecparamCsr);
    assert.ok(result.ok);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', result.csr.publicKey));
    assert.equal(result.csr.spkiSha256, createHash('sha256').update(spki).digest('hex'));
  });

  it('refuses garbage, oversize input and more than one PEM block as invalid_csr', async () => {
    const cases = [
      'not a csr',
      '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      ecparamCsr + ecparamCsr,
      ecparamCsr.replace('CERTIFICATE REQUEST', 'CERTIFICATE').replace('CERTIFICATE REQUEST', 'CERTIFICATE'),
      `${ecparamCsr}\n${' '.repeat(9000)}`, // a valid CSR, but over the 8 KiB cap
      `junk before\n${ecparamCsr}`,
    ];
    for (const pem of cases) {
      const result = await parseDeviceCsr(pem);
      assert.equal(result.ok, false, pem.slice(0, 60));
      assert.equal(result.ok ? '' : result.reason, 'invalid_csr', pem.slice(0, 60));
    }
  });

  it('refuses a CSR whose self-signature does not verify as invalid_csr', async () => {
    const [block] = splitPem(ecparamCsr) ?? [];
    assert.ok(block);
    const der = Buffer.from(block.der);
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01; // last byte of the signature's s
    const result = await parseDeviceCsr(toPem(der, 'CERTIFICATE REQUEST'));
    assert.equal(result.ok ? 'accepted' : result.reason, 'invalid_csr');
    assert.match(result.ok ? '' : result.message, /signature/);
  });

  it('refuses RSA and P-384 keys as unsupported_key', async () => {
    for (const [name, keyArgs] of [
      ['rsa', GENPKEY_RSA],
      ['p384', EC_PARAM_P384],
    ] as const) {
      const result = await parseDeviceCsr(await opensslCsr(dir, name, [...keyArgs]));
      assert.equal(result.ok ? 'accepted' : result.reason, 'unsupported_key', name);
    }
  });
});
