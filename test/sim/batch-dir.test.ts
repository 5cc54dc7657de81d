/** Reading a factory batch directory, and the fleet that provisions itself with it. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchProvisioning, parseLabelSerials, readFactoryBatchDir } from '../../src/sim/batch-dir.ts';
import { simulatedFleet } from '../../src/sim/attributes.ts';
import { batchFleet } from '../../src/sim/simulator.ts';
import { ConfigError, ValidationError } from '../../src/infra/errors.ts';

describe('factory batch directory', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-batch-dir-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('takes the serials from the first column of labels.csv, after its header', () => {
    assert.deepEqual(parseLabelSerials('serial,deviceId,claimCode\nSN-1,SN-1,AAAA\r\nSN-2,SN-2,BBBB\n\n'), [
      'SN-1',
      'SN-2',
    ]);
  });

  it('reads what `flotilla factory batch --out` writes', async () => {
    await writeFile(join(dir, 'claim.pem'), 'CLAIM CERT');
    await writeFile(join(dir, 'claim.key'), 'CLAIM KEY');
    await writeFile(join(dir, 'ca-chain.pem'), 'CHAIN');
    await writeFile(join(dir, 'labels.csv'), 'serial,deviceId,claimCode\nSN-1,SN-1,AAAA\nSN-2,SN-2,BBBB\n');
    const endpoints = { mqttUrl: 'mqtts://fleet:8883', httpsUrl: 'https://fleet:8443' };
    await writeFile(
      join(dir, 'batch.json'),
      JSON.stringify({
        id: 'b-1',
        hardwareModel: 'tracker-2',
        hardwareRevision: 'B',
        claimLimit: 2,
        endpoints,
      }),
    );
    const batch = await readFactoryBatchDir(dir);
    assert.deepEqual(batch, {
      serials: ['SN-1', 'SN-2'],
      hardware: { model: 'tracker-2', revision: 'B' },
      claim: { certPem: 'CLAIM CERT', keyPem: 'CLAIM KEY' },
      caChainPem: 'CHAIN',
      endpoints,
    });
    const https = batchProvisioning(batch, 'https');
    assert.equal(https.transport === 'https' && https.httpsUrl, 'https://fleet:8443');
    assert.equal(batchProvisioning(batch, 'mqtt').transport, 'mqtt');
  });

  it('names the file that is missing or not a batch', async () => {
    await assert.rejects(readFactoryBatchDir(join(dir, 'nope')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /batch\.json cannot be read/);
      return true;
    });
    const other = await mkdtemp(join(dir, 'bad-'));
    await writeFile(join(other, 'batch.json'), '{"hardwareModel": "x"}');
    await assert.rejects(readFactoryBatchDir(other), /batch\.json is not a factory batch file/);
  });
});

describe('batch fleet', () => {
  const provision = {
    transport: 'mqtt' as const,
    claim: { certPem: 'C', keyPem: 'K' },
    caChainPem: 'CHAIN',
    serials: ['SN-1', 'SN-2', 'SN-3'],
    hardware: { model: 'gateway-x1', revision: '1.0' },
  };

  it('gives each simulated device a serial of the batch as its id, and the batch hardware', () => {
    const fleet = batchFleet(simulatedFleet(2, 1), provision);
    assert.deepEqual(
      fleet.map((d) => [d.deviceId, d.serial, d.hardware.model]),
      [
        ['SN-1', 'SN-1', 'gateway-x1'],
        ['SN-2', 'SN-2', 'gateway-x1'],
      ],
    );
    assert.equal(fleet[0]?.firmwareVersion, simulatedFleet(1, 1)[0]?.firmwareVersion);
  });

  it('keeps generated serials without a list, and refuses more devices than serials', () => {
    const generated = simulatedFleet(2, 1);
    const withoutSerials = { ...provision, serials: undefined };
    assert.deepEqual(
      batchFleet(generated, withoutSerials).map((d) => d.deviceId),
      generated.map((d) => d.serial),
    );
    assert.throws(() => batchFleet(simulatedFleet(4, 1), provision), ValidationError);
    assert.throws(
      () => batchFleet(simulatedFleet(1, 1), { ...provision, serials: ['../etc'] }),
      /not a valid device id/,
    );
  });
});
