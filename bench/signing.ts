/**
 * Certificate signatures per second: Flotilla issuing device certificates from CSRs (parse, verify
 * the CSR's self-signature, sign with the issuing CA, encode) against `openssl x509 -req` signing
 * the same CSRs with the same CA key in the same run, plus openssl's raw ECDSA P-256 signing speed
 * as the ceiling of the primitive.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { parseDeviceCsr } from '../src/pki/csr.ts';
import { issueDeviceCertFromCsr } from '../src/pki/device-certs.ts';
import type { FleetPki } from '../src/pki/fleet-pki.ts';
import { generateKeyPair, SIGNING_ALG } from '../src/pki/x509.ts';
import { createProgressBar } from '../src/cli/progress.ts';

const run = promisify(execFile);

export interface SigningResult {
  csrs: number;
  flotillaPerS: number;
  opensslPerS: number;
  opensslRawSignPerS: number;
}

async function makeCsrs(count: number): Promise<string[]> {
  const csrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const keys = await generateKeyPair();
    const serial = `BENCH-${String(i).padStart(6, '0')}`;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: [serial] }],
      keys,
      signingAlgorithm: SIGNING_ALG,
    });
    csrs.push(csr.toString('pem'));
  }
  return csrs;
}

async function opensslRawSignPerS(): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-seconds', '2', 'ecdsap256']);
  const line = stdout.split('\n').find((l) => /ecdsa \(nistp256\)/.test(l));
  const fields = line?.trim().split(/\s+/) ?? [];
  return Number(fields[fields.length - 2]);
}

export async function measureSigning(pki: FleetPki, dir: string, count: number): Promise<SigningResult> {
  await mkdir(dir, { recursive: true });
  const csrs = await makeCsrs(count);

  process.stderr.write(`flotilla: signing ${count} CSRs\n`);
  let bar = createProgressBar(count, 'signed');
  let started = performance.now();
  for (const [i, pem] of csrs.entries()) {
    const parsed = await parseDeviceCsr(pem);
    if (!parsed.ok) throw new Error(parsed.message);
    const serial = parsed.csr.subject.commonName ?? `S${i}`;
    await issueDeviceCertFromCsr(
      pki.issuingCa,
      { deviceId: serial, serial, publicKey: parsed.csr.publicKey, validityDays: 365 },
      Date.now(),
    );
    bar.update(i + 1);
  }
  bar.finish(count);
  const flotillaPerS = count / ((performance.now() - started) / 1000);

  const ext = join(dir, 'device-ext.cnf');
  await writeFile(
    ext,
    'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  const files = await Promise.all(
    csrs.map(async (pem, i) => {
      const file = join(dir, `${i}.csr`);
      await writeFile(file, pem);
      return file;
    }),
  );
  process.stderr.write(`openssl: signing ${count} CSRs (one openssl x509 -req per CSR)\n`);
  bar = createProgressBar(count, 'signed');
  started = performance.now();
  for (const [i, file] of files.entries()) {
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      file,
      '-CA',
      pki.paths.issuingCert,
      '-CAkey',
      pki.paths.issuingKey,
      '-set_serial',
      `0x${(i + 1).toString(16)}`,
      '-days',
      '365',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      `${file}.pem`,
    ]);
    bar.update(i + 1);
  }
  bar.finish(count);
  const opensslPerS = count / ((performance.now() - started) / 1000);
  return { csrs: count, flotillaPerS, opensslPerS, opensslRawSignPerS: await opensslRawSignPerS() };
}
