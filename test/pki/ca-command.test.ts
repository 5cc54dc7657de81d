/**
 * `flotilla ca …` end to end: a root made on an "operator machine" directory, the offline CSR
 * flow and the online flow into data dirs, with the root key never entering a data dir.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCaCommand } from '../../src/cli/ca-command.ts';
import { ensureFleetPki } from '../../src/pki/fleet-pki.ts';
import { fleetPkiPaths } from '../../src/pki/fleet-paths.ts';
import { ConfigError, ConflictError, ValidationError } from '../../src/infra/errors.ts';
import type { PkiSummary } from '../../src/pki/pki-summary.ts';
import { opensslOk, tempDir } from './openssl.ts';

/** Runs `flotilla <args>` in-process; resolves with what it printed. */
async function flotilla(...args: string[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const program = new Command('flotilla').exitOverride();
  registerCaCommand(program, out);
  await program.parseAsync(args, { from: 'user' });
  return Buffer.concat(chunks).toString('utf8');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((e) => join(dir, e));
}

describe('flotilla ca', () => {
  let work: string;
  let remove: () => Promise<void>;
  let rootDir: string;
  before(async () => {
    ({ dir: work, remove } = await tempDir('flotilla-ca-'));
    rootDir = join(work, 'root');
    await flotilla('ca', 'init', '--dir', rootDir, '--cn', 'Acme Fleet Root', '--validity-days', '3650');
  });
  after(() => remove());

  it('init writes an owner-only root and refuses to overwrite it', async () => {
    assert.equal((await stat(rootDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(rootDir, 'root-ca.key'))).mode & 0o777, 0o600);
    const subject = await opensslOk(['x509', '-in', join(rootDir, 'root-ca.pem'), '-noout', '-subject']);
    assert.match(subject.stdout, /CN ?= ?Acme Fleet Root/);
    await assert.rejects(flotilla('ca', 'init', '--dir', rootDir), ConflictError);
  });

  it('runs the offline flow: CSR on the server, signature on the root machine, import', async () => {
    const dataDir = join(work, 'offline');
    const csrFile = join(work, 'issuing.csr');
    const certFile = join(work, 'issuing.pem');
    const paths = fleetPkiPaths(dataDir);
    await flotilla(
      'ca',
      'intermediate-csr',
      '--data-dir',
      dataDir,
      '--out',
      csrFile,
      '--cn',
      'Acme Issuing 1',
    );
    assert.equal((await stat(paths.issuingPendingKey)).mode & 0o777, 0o600);
    await opensslOk(['req', '-in', csrFile, '-noout', '-verify']);
    // Starting the server before the import must not create a root of its own.
    await assert.rejects(ensureFleetPki(dataDir, [], Date.now()), ConfigError);

    await flotilla('ca', 'sign-intermediate', '--root-dir', rootDir, '--csr', csrFile, '--out', certFile);
    await flotilla('ca', 'import-intermediate', '--data-dir', dataDir, '--cert', certFile);
    const pki = await ensureFleetPki(dataDir, ['fleet.example.com'], Date.now());

    assert.equal(pki.rootKeyOnline, false);
    assert.ok(!(await filesUnder(dataDir)).some((f) => f.endsWith('.key') && f.includes('root')));
    assert.ok(!(await filesUnder(dataDir)).includes(paths.issuingPendingKey));
    assert.equal(pki.rootCertPem, await readFile(join(rootDir, 'root-ca.pem'), 'utf8'));
    const issuing = await opensslOk(['x509', '-in', paths.issuingCert, '-noout', '-subject']);
    assert.match(issuing.stdout, /CN ?= ?Acme Issuing 1/);
    const verified = await opensslOk([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      join(rootDir, 'root-ca.pem'),
      '-untrusted',
      paths.issuingCert,
      paths.serverCert,
    ]);
    assert.match(verified.stdout, /: OK/);

    const summary = JSON.parse(await flotilla('ca', 'show', '--data-dir', dataDir, '--json')) as PkiSummary;
    assert.equal(summary.rootKeyOnline, false);
    assert.match(summary.issuing?.subject ?? '', /Acme Issuing 1/);
    assert.match(summary.root?.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(await flotilla('ca', 'show', '--data-dir', dataDir), /key\s+offline/);
  });

  it('refuses to import a certificate for a key the data dir does not hold', async () => {
    const dataDir = join(work, 'wrong-key');
    const csrFile = join(work, 'other.csr');
    const certFile = join(work, 'other.pem');
    await flotilla('ca', 'intermediate-csr', '--data-dir', join(work, 'elsewhere'), '--out', csrFile);
    await flotilla('ca', 'sign-intermediate', '--root-dir', rootDir, '--csr', csrFile, '--out', certFile);
    await flotilla('ca', 'intermediate-csr', '--data-dir', dataDir, '--out', join(work, 'mine.csr'));
    await assert.rejects(
      flotilla('ca', 'import-intermediate', '--data-dir', dataDir, '--cert', certFile),
      ValidationError,
    );
  });

  it('refuses to import a certificate from another root', async () => {
    const dataDir = join(work, 'other-root');
    const otherRoot = join(work, 'root2');
    const csrFile = join(work, 'r2.csr');
    const certFile = join(work, 'r2.pem');
    await flotilla('ca', 'init', '--dir', otherRoot);
    await flotilla('ca', 'intermediate', '--root-dir', rootDir, '--data-dir', dataDir);
    await flotilla('ca', 'intermediate-csr', '--data-dir', dataDir, '--out', csrFile);
    await flotilla('ca', 'sign-intermediate', '--root-dir', otherRoot, '--csr', csrFile, '--out', certFile);
    await assert.rejects(
      flotilla('ca', 'import-intermediate', '--data-dir', dataDir, '--cert', certFile),
      ConflictError,
    );
  });

  it('refuses to sign a CSR that is not one', async () => {
    const bad = join(work, 'bad.csr');
    await writeFile(bad, 'hello');
    await assert.rejects(
      flotilla('ca', 'sign-intermediate', '--root-dir', rootDir, '--csr', bad, '--out', join(work, 'x.pem')),
      ValidationError,
    );
  });

  it('runs the online flow with the root dir at hand, and refuses to replace the issuing CA silently', async () => {
    const dataDir = join(work, 'online');
    await flotilla(
      'ca',
      'intermediate',
      '--root-dir',
      rootDir,
      '--data-dir',
      dataDir,
      '--validity-days',
      '400',
    );
    const pki = await ensureFleetPki(dataDir, [], Date.now());
    assert.equal(pki.rootKeyOnline, false);
    await opensslOk(['verify', '-x509_strict', '-CAfile', pki.paths.rootCert, pki.paths.issuingCert]);
    const days = (pki.issuingCa.cert.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 399 && days <= 400);
    await assert.rejects(
      flotilla('ca', 'intermediate', '--root-dir', rootDir, '--data-dir', dataDir),
      ConflictError,
    );

    await flotilla('ca', 'intermediate', '--root-dir', rootDir, '--data-dir', dataDir, '--replace');
    const rotated = await ensureFleetPki(dataDir, [], Date.now());
    assert.notEqual(rotated.issuingCertPem, pki.issuingCertPem);
    assert.notEqual(rotated.server.certPem, pki.server.certPem); // re-issued under the new issuing CA
    assert.equal(rotated.rootCertPem, pki.rootCertPem);
  });
});
