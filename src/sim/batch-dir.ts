/**
 * Reads what `flotilla factory batch --out DIR` wrote, so simulated devices can provision
 * themselves with it: claim.pem, claim.key, ca-chain.pem, batch.json (hardware and endpoints)
 * and labels.csv (one serial per device, first column).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../infra/errors.ts';
import type { SimProvisioning } from './provisioned-identities.ts';

const batchFileSchema = z.object({
  hardwareModel: z.string().min(1),
  hardwareRevision: z.string().min(1),
  endpoints: z.object({ mqttUrl: z.string().min(1), httpsUrl: z.string().min(1) }),
});

export interface FactoryBatchDir {
  serials: string[];
  hardware: { model: string; revision: string };
  claim: { certPem: string; keyPem: string };
  caChainPem: string;
  endpoints: { mqttUrl: string; httpsUrl: string };
}

export async function readFactoryBatchDir(dir: string): Promise<FactoryBatchDir> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      throw new ConfigError(`${join(dir, name)} cannot be read: ${(err as Error).message}`);
    }
  };
  let batch: z.infer<typeof batchFileSchema>;
  try {
    batch = batchFileSchema.parse(JSON.parse(await read('batch.json')));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `${join(dir, 'batch.json')} is not a factory batch file: ${(err as Error).message}`,
    );
  }
  const serials = parseLabelSerials(await read('labels.csv'));
  if (serials.length === 0) throw new ConfigError(`${join(dir, 'labels.csv')} lists no serials`);
  return {
    serials,
    hardware: { model: batch.hardwareModel, revision: batch.hardwareRevision },
    claim: { certPem: await read('claim.pem'), keyPem: await read('claim.key') },
    caChainPem: await read('ca-chain.pem'),
    endpoints: batch.endpoints,
  };
}

/** The first column of labels.csv after its `serial,…` header. Pure. */
export function parseLabelSerials(csv: string): string[] {
  return csv
    .split(/\r?\n/)
    .map((line) => line.split(',')[0]?.trim() ?? '')
    .filter((serial, i) => serial !== '' && !(i === 0 && serial.toLowerCase() === 'serial'));
}

/** The simulator's provisioning options for a batch dir and transport. */
export function batchProvisioning(batch: FactoryBatchDir, transport: 'mqtt' | 'https'): SimProvisioning {
  const common = {
    claim: batch.claim,
    caChainPem: batch.caChainPem,
    serials: batch.serials,
    hardware: batch.hardware,
  };
  return transport === 'https'
    ? { ...common, transport, httpsUrl: batch.endpoints.httpsUrl }
    : { ...common, transport };
}
