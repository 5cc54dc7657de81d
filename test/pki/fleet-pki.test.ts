/** ensureFleetPki: the embedded default's two-tier PKI, checked by openssl. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ensureFleetPki, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { fleetPkiPaths } from '../../src/pki/fleet-paths.ts';
import { ConfigError } from '../../src/infra/errors.ts';
import { opensslOk, tempDir } from './openssl.ts';

const NOW = Date.now();

describe('ensureFleetPki', () => {
  let dataDir: string;
  let remove: () => Promise<void>;
  let pki: FleetPki;
  before(async () => {
    ({ dir: dataDir, remove } = await tempDir('flotilla-fleet-'));
    pki = await ensureFleetPki(dataDir, ['fleet.example.com', '10.0.0.5'], NOW);
  });
  after(() => remove());

  it('creates root, issuing CA, server certificate, chain and CRL on first start, root key online', async () => {
    assert.equal(pki.rootKeyOnline, true);
    const { rootCert, rootKey, issuingCert, issuingKey, chain, serverCert, serverKey, crl } = pki.paths;
    for (const file of [rootCert, rootKey, issuingCert, issuingKey, chain, serverCert, serverKey, crl])
      await stat(file);
    assert.equal(await readFile(pki.paths.chain, 'utf8'), pki.chainPem);
    assert.equal(pki.chainPem, `${pki.issuingCertPem.trimEnd()}\n${pki.rootCertPem.trimEnd()}\n`);
  });

  it('writes keys owner-only in an owner-only directory', async () => {
    assert.equal((await stat(pki.paths.dir)).mode & 0o777, 0o700);
    for (const key of [pki.paths.rootKey, pki.paths.issuingKey, pki.paths.serverKey])
      assert.equal((await stat(key)).mode & 0o777, 0o600, key);
  });

  it('makes CA certificates openssl reads as root pathlen 1 and issuing pathlen 0', async () => {
    const root = (await opensslOk(['x509', '-in', pki.paths.rootCert, '-noout', '-text'])).stdout;
    assert.match(root, /CA:TRUE, pathlen:1/);
    assert.match(root, /Certificate Sign, CRL Sign/);
    const issuing = (await opensslOk(['x509', '-in', pki.paths.issuingCert, '-noout', '-text'])).stdout;
    assert.match(issuing, /CA:TRUE, pathlen:0/);
    assert.match(issuing, /Certificate Sign, CRL Sign/);
    assert.match(issuing, /Authority Key Identifier/);
    await opensslOk(['verify', '-x509_strict', '-CAfile', pki.paths.rootCert, pki.paths.issuingCert]);
  });

  it('issues a server certificate openssl accepts for TLS servers, with the default and given names', async () => {
    const { stdout } = await opensslOk([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      pki.paths.rootCert,
      '-untrusted',
      pki.paths.issuingCert,
      pki.paths.serverCert,
    ]);
    assert.match(stdout, /OK/);
    const cert = new X509Certificate(pki.server.certPem);
    for (const name of [
      'DNS:localhost',
      'DNS:fleet.example.com',
      'IP Address:127.0.0.1',
      'IP Address:10.0.0.5',
    ])
      assert.ok(cert.subjectAltName?.includes(name), name);
    assert.match(cert.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1/);
    // server.pem carries the issuing CA after the leaf, so TLS clients get the whole chain.
    assert.ok(pki.server.certPem.trimEnd().endsWith(pki.issuingCertPem.trimEnd()));
  });

  it('reuses everything on the next start, and re-issues only the server certificate for a new name', async () => {
    const again = await ensureFleetPki(dataDir, ['fleet.example.com', '10.0.0.5'], NOW);
    assert.equal(again.rootCertPem, pki.rootCertPem);
    assert.equal(again.issuingCertPem, pki.issuingCertPem);
    assert.deepEqual(again.server, pki.server);

    const more = await ensureFleetPki(dataDir, ['fleet.example.com', '10.0.0.5', 'mqtt.example.com'], NOW);
    assert.equal(more.issuingCertPem, pki.issuingCertPem);
    assert.notEqual(more.server.certPem, pki.server.certPem);
    assert.match(new X509Certificate(more.server.certPem).subjectAltName ?? '', /DNS:mqtt\.example\.com/);
    assert.equal(await readFile(more.paths.serverCert, 'utf8'), more.server.certPem);
  });

  it('re-issues the server certificate when its key no longer matches', async () => {
    const before = await ensureFleetPki(dataDir, ['fleet.example.com'], NOW);
    const otherDir = await tempDir('flotilla-other-');
    try {
      const other = await ensureFleetPki(otherDir.dir, [], NOW);
      await writeFile(before.paths.serverKey, other.server.keyPem);
      const after = await ensureFleetPki(dataDir, ['fleet.example.com'], NOW);
      assert.notEqual(after.server.certPem, before.server.certPem);
    } finally {
      await otherDir.remove();
    }
  });

  it('says the root key is offline once root-ca.key is moved away', async () => {
    const { dir, remove: cleanup } = await tempDir('flotilla-offline-');
    try {
      const first = await ensureFleetPki(dir, [], NOW);
      await rm(first.paths.rootKey);
      const next = await ensureFleetPki(dir, [], NOW);
      assert.equal(next.rootKeyOnline, false);
      assert.equal(next.issuingCertPem, first.issuingCertPem);
    } finally {
      await cleanup();
    }
  });

  it('refuses to start with a root certificate, no root key and no issuing CA', async () => {
    const { dir, remove: cleanup } = await tempDir('flotilla-rootonly-');
    try {
      const paths = fleetPkiPaths(dir);
      await ensureFleetPki(dir, [], NOW);
      for (const file of [paths.rootKey, paths.issuingCert, paths.issuingKey]) await rm(file);
      await assert.rejects(ensureFleetPki(dir, [], NOW), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /flotilla ca intermediate/);
        return true;
      });
    } finally {
      await cleanup();
    }
  });
});
