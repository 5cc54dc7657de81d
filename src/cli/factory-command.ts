/**
 * `flotilla factory batch|sign-csr`: what the factory line runs. A batch registers serials and
 * writes the claim credential plus one record per device to flash; sign-csr gives a device whose
 * key was made on the line (or in an HSM) its final certificate.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { provisionResponseSchema } from '../contracts/provisioning-messages.ts';
import { ValidationError } from '../infra/errors.ts';
import { batchCredentialSchema } from '../api/routes/provisioning.ts';
import { ApiClient, ApiRequestError, defaultServerUrl } from './api-client.ts';
import { createProgressBar } from './progress.ts';

interface BatchFlags {
  serials: string;
  model: string;
  revision: string;
  claimLimit?: string;
  claimValidityDays?: string;
  out: string;
  server: string;
  json: boolean;
}

/** One serial per line; blank lines and `#` comments ignored; CSV files use the first column. */
export function parseSerialsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').split(',')[0]?.trim() ?? '')
    .filter((serial) => serial !== '' && serial.toLowerCase() !== 'serial');
}

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new ValidationError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function runBatch(flags: BatchFlags): Promise<void> {
  const serials = parseSerialsFile(await readFile(flags.serials, 'utf8'));
  if (serials.length === 0) throw new ValidationError(`${flags.serials} lists no serials`);
  const client = new ApiClient(flags.server);
  const credential = await client.post('/api/v1/factory/batches', batchCredentialSchema, {
    serials,
    hardwareModel: flags.model,
    hardwareRevision: flags.revision,
    claimLimit: wholeNumber('--claim-limit', flags.claimLimit),
    claimValidityDays: wholeNumber('--claim-validity-days', flags.claimValidityDays),
  });
  const devicesDir = join(flags.out, 'devices');
  await mkdir(devicesDir, { recursive: true, mode: 0o700 });
  await writeFile(join(flags.out, 'claim.key'), credential.claim.keyPem, { mode: 0o600 });
  await writeFile(join(flags.out, 'claim.pem'), credential.claim.certificatePem);
  await writeFile(join(flags.out, 'ca-chain.pem'), credential.caChainPem);
  await writeFile(
    join(flags.out, 'batch.json'),
    `${JSON.stringify({ ...credential.batch, endpoints: credential.endpoints }, null, 2)}\n`,
  );
  await writeFile(
    join(flags.out, 'labels.csv'),
    `serial,deviceId,claimCode\n${credential.devices.map((d) => `${d.serial},${d.deviceId},${d.claimCode}`).join('\n')}\n`,
  );
  const bar = createProgressBar(credential.devices.length, 'device records');
  let written = 0;
  for (const device of credential.devices) {
    // What the line flashes: identity, where to go, and the batch's claim credential.
    const record = {
      ...device,
      batchId: credential.batch.id,
      ...credential.endpoints,
      claim: credential.claim,
      caChainPem: credential.caChainPem,
    };
    await writeFile(join(devicesDir, `${device.serial}.json`), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o600,
    });
    bar.update(++written);
  }
  bar.finish(written);
  const summary = {
    batchId: credential.batch.id,
    devices: credential.devices.length,
    claimLimit: credential.batch.claimLimit,
    claimExpiresAt: credential.batch.claimExpiresAt,
    out: flags.out,
  };
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(summary)}\n`
      : `batch ${summary.batchId}: ${summary.devices} devices registered; claim credential and device records in ${flags.out}\n`,
  );
}

async function runSignCsr(
  csrFile: string,
  flags: { batch: string; out: string; server: string; json: boolean },
): Promise<void> {
  const csrPem = await readFile(csrFile, 'utf8');
  const response = await new ApiClient(flags.server).post(
    `/api/v1/factory/batches/${encodeURIComponent(flags.batch)}/csr`,
    provisionResponseSchema,
    { csrPem },
  );
  if (response.status === 'rejected')
    throw new ApiRequestError(422, response.code, `${response.code}: ${response.message}`);
  await writeFile(flags.out, `${(response.certificatePem ?? '').trimEnd()}\n${response.caChainPem}`);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ deviceId: response.deviceId, notAfter: response.notAfter, out: flags.out })}\n`
      : `device ${response.deviceId}: certificate and chain written to ${flags.out}\n`,
  );
}

export function registerFactoryCommand(program: Command): void {
  const factory = program
    .command('factory')
    .description('Factory line integration: batches of expected devices and their credentials');
  factory
    .command('batch')
    .description('Register a batch of serials; write its claim credential and one record per device to flash')
    .requiredOption('--serials <file>', 'serial numbers, one per line (or CSV, first column)')
    .requiredOption('--model <model>', 'hardware model of the batch')
    .requiredOption('--revision <revision>', 'hardware revision of the batch')
    .option('--claim-limit <n>', 'how many devices may use the claim credential (default: number of serials)')
    .option('--claim-validity-days <n>', 'lifetime of the claim credential (default 90)')
    .requiredOption(
      '--out <dir>',
      'where to write claim.pem, claim.key, ca-chain.pem, batch.json, labels.csv, devices/*.json',
    )
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print a JSON summary for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  flotilla factory batch --serials line3-2026-11.txt --model tracker-2 --revision B --out ./batch-2026-11',
    )
    .action((flags: BatchFlags) => runBatch(flags));
  factory
    .command('sign-csr')
    .description(
      'Sign a CSR made on the line (key generated on the device or in an HSM); writes the certificate and chain',
    )
    .argument('<csr>', 'PEM CSR whose subject names the serial (CN or serialNumber)')
    .requiredOption('--batch <id>', 'the batch the serial belongs to')
    .requiredOption('--out <file>', 'where to write the certificate followed by the CA chain')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print a JSON summary for scripts', false)
    .addHelpText(
      'after',
      '\nExample:\n  openssl req -new -key dev.key -subj "/CN=SN0001/serialNumber=SN0001" -out dev.csr\n  flotilla factory sign-csr dev.csr --batch b-0123456789ab --out dev.pem',
    )
    .action((csr: string, flags: { batch: string; out: string; server: string; json: boolean }) =>
      runSignCsr(csr, flags),
    );
}
