/**
 * `flotilla ca …`: the fleet PKI's operator procedures. The root CA is made once on an offline
 * machine (`ca init`); it signs the server's issuing CA either directly (`ca intermediate`, when
 * the data dir is reachable from that machine) or through a CSR carried both ways on removable
 * media (`ca intermediate-csr` → `ca sign-intermediate` → `ca import-intermediate`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { ValidationError } from '../infra/errors.ts';
import {
  DEFAULT_ISSUING_CN,
  DEFAULT_ROOT_CN,
  ISSUING_VALIDITY_DAYS,
  ROOT_VALIDITY_DAYS,
} from '../pki/ca-certs.ts';
import {
  createIntermediate,
  createIntermediateCsr,
  importIssuingCert,
  initRootDir,
  signIntermediateCsr,
} from '../pki/ca-operations.ts';
import { describeFleetPki, type CertSummary, type PkiSummary } from '../pki/pki-summary.ts';

function days(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 36_500)
    throw new InvalidArgumentError('expected a whole number of days between 1 and 36500');
  return Number(value);
}

async function readInput(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    throw new ValidationError(`cannot read ${what} ${file}`);
  }
}

/** Registers `flotilla ca …`; `out` receives what the commands print (stdout by default). */
export function registerCaCommand(program: Command, out: NodeJS.WritableStream = process.stdout): void {
  const say = (text: string): void => void out.write(`${text}\n`);
  const ca = program
    .command('ca')
    .description('Manage the fleet PKI: offline root CA, issuing CA, inspection')
    .addHelpText(
      'after',
      `
Online (the root dir is reachable from where the data dir is):
  flotilla ca init --dir /media/root-ca --cn "Acme Fleet Root CA"
  flotilla ca intermediate --root-dir /media/root-ca --data-dir /var/lib/flotilla
Offline (only files travel to and from the root machine):
  server$ flotilla ca intermediate-csr --data-dir /var/lib/flotilla --out issuing.csr
  root$   flotilla ca sign-intermediate --root-dir /media/root-ca --csr issuing.csr --out issuing.pem
  server$ flotilla ca import-intermediate --data-dir /var/lib/flotilla --cert issuing.pem`,
    );

  ca.command('init')
    .description('Create a root CA (root-ca.pem, root-ca.key) in a directory on the operator machine')
    .requiredOption('--dir <dir>', 'where to write the root CA; must not hold one yet')
    .option('--cn <name>', 'root CA common name', DEFAULT_ROOT_CN)
    .option('--validity-days <n>', 'root CA lifetime in days', days, ROOT_VALIDITY_DAYS)
    .addHelpText('after', '\nExample:\n  flotilla ca init --dir /media/root-ca --cn "Acme Fleet Root CA"')
    .action(async (o: { dir: string; cn: string; validityDays: number }) => {
      const paths = await initRootDir(o.dir, { commonName: o.cn, validityDays: o.validityDays }, Date.now());
      say(`root CA written: ${paths.rootCert}\nroot key (keep offline): ${paths.rootKey}`);
    });

  ca.command('intermediate')
    .description("Create the server's issuing CA, signed by the root CA in --root-dir")
    .requiredOption('--root-dir <dir>', 'directory with root-ca.pem and root-ca.key')
    .requiredOption('--data-dir <dir>', "the server's data directory")
    .option('--cn <name>', 'issuing CA common name', DEFAULT_ISSUING_CN)
    .option('--validity-days <n>', 'issuing CA lifetime in days', days, ISSUING_VALIDITY_DAYS)
    .option('--replace', 'rotate: replace an existing issuing CA', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla ca intermediate --root-dir /media/root-ca --data-dir /var/lib/flotilla',
    )
    .action(
      async (o: { rootDir: string; dataDir: string; cn: string; validityDays: number; replace: boolean }) => {
        const opts = { commonName: o.cn, validityDays: o.validityDays, replace: o.replace };
        const paths = await createIntermediate(o.rootDir, o.dataDir, opts, Date.now());
        say(`issuing CA written: ${paths.issuingCert}\nchain: ${paths.chain}`);
      },
    );

  ca.command('intermediate-csr')
    .description('Offline flow 1/3: create an issuing CA key in the data dir and write its CSR')
    .requiredOption('--data-dir <dir>', "the server's data directory")
    .requiredOption('--out <file>', 'where to write the CSR (PEM) to carry to the root machine')
    .option('--cn <name>', 'issuing CA common name', DEFAULT_ISSUING_CN)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla ca intermediate-csr --data-dir /var/lib/flotilla --out issuing.csr',
    )
    .action(async (o: { dataDir: string; out: string; cn: string }) => {
      await writeFile(o.out, await createIntermediateCsr(o.dataDir, o.cn));
      say(
        `CSR written: ${o.out}\nsign it with: flotilla ca sign-intermediate --root-dir <dir> --csr ${o.out} --out issuing.pem`,
      );
    });

  ca.command('sign-intermediate')
    .description('Offline flow 2/3, on the root machine: sign an issuing CA CSR with the root')
    .requiredOption('--root-dir <dir>', 'directory with root-ca.pem and root-ca.key')
    .requiredOption('--csr <file>', 'the CSR from intermediate-csr')
    .requiredOption('--out <file>', 'where to write the issuing CA certificate followed by the root')
    .option('--cn <name>', "issuing CA common name (default: the CSR's)")
    .option('--validity-days <n>', 'issuing CA lifetime in days', days, ISSUING_VALIDITY_DAYS)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla ca sign-intermediate --root-dir /media/root-ca --csr issuing.csr --out issuing.pem',
    )
    .action(async (o: { rootDir: string; csr: string; out: string; cn?: string; validityDays: number }) => {
      const csrPem = await readInput(o.csr, 'CSR');
      const opts = { commonName: o.cn, validityDays: o.validityDays };
      await writeFile(o.out, await signIntermediateCsr(o.rootDir, csrPem, opts, Date.now()));
      say(`issuing CA certificate written: ${o.out}`);
    });

  ca.command('import-intermediate')
    .description('Offline flow 3/3: install the signed issuing CA certificate in the data dir')
    .requiredOption('--data-dir <dir>', "the server's data directory")
    .requiredOption('--cert <file>', 'the file sign-intermediate wrote')
    .option('--root-cert <file>', 'root CA certificate, if neither the data dir nor --cert has it')
    .addHelpText(
      'after',
      '\nExample:\n  flotilla ca import-intermediate --data-dir /var/lib/flotilla --cert issuing.pem',
    )
    .action(async (o: { dataDir: string; cert: string; rootCert?: string }) => {
      const certPem = await readInput(o.cert, 'certificate');
      const rootPem = o.rootCert === undefined ? undefined : await readInput(o.rootCert, 'root certificate');
      const paths = await importIssuingCert(o.dataDir, certPem, Date.now(), rootPem);
      say(
        `issuing CA installed: ${paths.issuingCert}\nthe server certificate is re-issued at the next start`,
      );
    });

  ca.command('show')
    .description("Show the data dir's CA certificates, server certificate and CRL")
    .requiredOption('--data-dir <dir>', "the server's data directory")
    .option('--json', 'print JSON for scripts', false)
    .addHelpText('after', '\nExample:\n  flotilla ca show --data-dir /var/lib/flotilla --json')
    .action(async (o: { dataDir: string; json: boolean }) => {
      const summary = await describeFleetPki(o.dataDir, Date.now());
      if (o.json) say(JSON.stringify(summary, null, 2));
      else printSummary(summary, say);
    });
}

function printCert(title: string, cert: CertSummary | undefined, say: (text: string) => void): void {
  if (!cert) return say(`${title.padEnd(12)}(none)`);
  say(`${title.padEnd(12)}${cert.subject}  [${cert.file}]`);
  say(`  issuer    ${cert.issuer}`);
  say(`  valid     ${cert.notBefore} to ${cert.notAfter}${cert.expired ? '  EXPIRED' : ''}`);
  say(`  SHA-256   ${cert.fingerprint256}`);
  if (cert.subjectAltName) say(`  names     ${cert.subjectAltName}`);
}

function printSummary(s: PkiSummary, say: (text: string) => void): void {
  say(`Fleet PKI in ${s.dir}`);
  printCert('root CA', s.root, say);
  say(
    s.rootKeyOnline
      ? '  key       ONLINE (root-ca.key is in the data dir: move it to offline storage for production)'
      : '  key       offline',
  );
  printCert('issuing CA', s.issuing, say);
  if (s.issuingCsrPending) say('  pending   a CSR awaits signing (then flotilla ca import-intermediate)');
  printCert('server', s.server, say);
  if (!s.crl) return say('CRL         (none)');
  say(
    `CRL         ${s.crl.revokedCount} revoked, updated ${s.crl.thisUpdate}, next ${s.crl.nextUpdate ?? '-'}`,
  );
}
