/** CRLs signed by the issuing CA, checked by openssl crl and openssl verify -crl_check. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ensureFleetPki, publishCrl, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { buildCrl, normalizeSerialHex } from '../../src/pki/crl.ts';
import { parseDeviceCsr } from '../../src/pki/csr.ts';
import { issueDeviceCertFromCsr, type IssuedCert } from '../../src/pki/device-certs.ts';
import { EC_PARAM_P256, openssl, opensslCsr, opensslOk, tempDir, writeTemp } from './openssl.ts';

const NOW = Date.now();
const DAY_MS = 86_400_000;

describe('CRL', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let pki: FleetPki;
  const devices: Array<IssuedCert & { file: string }> = [];

  before(async () => {
    ({ dir, remove } = await tempDir('flotilla-crl-'));
    pki = await ensureFleetPki(dir, [], NOW);
    for (const name of ['dev-a', 'dev-b', 'dev-c']) {
      const parsed = await parseDeviceCsr(await opensslCsr(dir, name, EC_PARAM_P256));
      assert.ok(parsed.ok);
      const cert = await issueDeviceCertFromCsr(
        pki.issuingCa,
        { deviceId: name, serial: name, publicKey: parsed.csr.publicKey, validityDays: 30 },
        NOW,
      );
      devices.push({ ...cert, file: await writeTemp(dir, `${name}.pem`, cert.certPem) });
    }
  });
  after(() => remove());

  const verifyWithCrl = (certFile: string) =>
    openssl([
      'verify',
      '-x509_strict',
      '-crl_check',
      '-CRLfile',
      pki.paths.crl,
      '-CAfile',
      pki.paths.rootCert,
      '-untrusted',
      pki.paths.issuingCert,
      certFile,
    ]);

  it('starts with an empty CRL that openssl verifies against the chain', async () => {
    const { stderr } = await opensslOk(['crl', '-in', pki.paths.crl, '-CAfile', pki.paths.chain, '-noout']);
    assert.match(stderr, /verify OK/);
    assert.match(
      (await opensslOk(['crl', '-in', pki.paths.crl, '-noout', '-text'])).stdout,
      /No Revoked Certificates/,
    );
  });

  it('lists revoked serials with reasons, CRL number and AKI, and openssl verifies its signature', async () => {
    const [a, b] = devices;
    assert.ok(a && b);
    await publishCrl(
      pki,
      [
        { serialHex: a.serialHex, revokedAt: new Date(NOW - DAY_MS), reason: 'keyCompromise' },
        { serialHex: b.serialHex.toLowerCase(), revokedAt: new Date(NOW) },
      ],
      NOW,
      NOW + DAY_MS,
    );
    const { stderr } = await opensslOk(['crl', '-in', pki.paths.crl, '-CAfile', pki.paths.chain, '-noout']);
    assert.match(stderr, /verify OK/);
    const text = (await opensslOk(['crl', '-in', pki.paths.crl, '-noout', '-text'])).stdout;
    for (const { serialHex } of [a, b]) assert.match(text, new RegExp(`Serial Number: (00)*${serialHex}\\n`));
    assert.match(text, /Key Compromise/);
    assert.match(text, /X509v3 CRL Number:\s+\d+/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, /Version 2/);
  });

  it('makes openssl verify -crl_check refuse revoked devices and accept the others', async () => {
    const [a, , c] = devices;
    assert.ok(a && c);
    const revoked = await verifyWithCrl(a.file);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.stderr + revoked.stdout, /certificate revoked/);
    assert.match((await verifyWithCrl(c.file)).stdout, /: OK/);
  });

  it('keeps a published CRL across restarts (only the store knows what to put back)', async () => {
    const published = await readFile(pki.paths.crl, 'utf8');
    await ensureFleetPki(dir, [], NOW + 1000);
    assert.equal(await readFile(pki.paths.crl, 'utf8'), published);
  });

  it('numbers CRLs so a later one has a higher CRL number', async () => {
    const number = async (pem: string) => {
      const file = await writeTemp(dir, 'n.crl', pem);
      return BigInt(
        (await opensslOk(['crl', '-in', file, '-noout', '-crlnumber'])).stdout.trim().split('=')[1] ?? '',
      );
    };
    const first = await number(await buildCrl(pki.issuingCa, [], NOW, NOW + DAY_MS));
    const second = await number(await buildCrl(pki.issuingCa, [], NOW + 1000, NOW + DAY_MS));
    assert.ok(second > first);
  });

  it('normalises serials to minimal positive DER integer hex', () => {
    assert.equal(normalizeSerialHex('7F01'), '7f01');
    assert.equal(normalizeSerialHex('80'), '0080');
    assert.equal(normalizeSerialHex('000012'), '12');
    assert.equal(normalizeSerialHex('5'), '05');
    assert.throws(() => normalizeSerialHex('xyz'), RangeError);
  });
});
