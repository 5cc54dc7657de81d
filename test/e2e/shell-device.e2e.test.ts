/**
 * The documented shell-script device (docs/examples/provision-device.sh): openssl and the
 * Mosquitto clients only, against a real server, with a batch made by `flotilla factory batch`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '../../src/contracts/device.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const SCRIPT = fileURLToPath(new URL('../../docs/examples/provision-device.sh', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

function exec(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('shell-script device (docs/examples/provision-device.sh)', () => {
  let fx: ServerFixture;
  let dir: string;
  before(async () => {
    fx = await createServerFixture();
    dir = await mkdtemp(join(tmpdir(), 'flotilla-shell-'));
  });
  after(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a batch with the factory CLI, then the script provisions itself and goes online', async () => {
    const serials = join(dir, 'serials.txt');
    await writeFile(serials, '# line 3\nSH-0001\nSH-0002\n');
    const factoryDir = join(dir, 'batch');
    const batch = await exec(process.execPath, [
      BIN,
      'factory',
      'batch',
      '--serials',
      serials,
      '--model',
      'shell-board',
      '--revision',
      'A',
      '--out',
      factoryDir,
      '--server',
      `http://127.0.0.1:${fx.httpPort}`,
      '--json',
    ]);
    assert.equal(batch.code, 0, batch.stderr);
    assert.equal((JSON.parse(batch.stdout) as { devices: number }).devices, 2);
    assert.equal((await stat(join(factoryDir, 'claim.key'))).mode & 0o777, 0o600);
    const record = JSON.parse(await readFile(join(factoryDir, 'devices', 'SH-0001.json'), 'utf8')) as {
      deviceId: string;
      claimCode: string;
      mqttUrl: string;
    };
    assert.equal(record.deviceId, 'SH-0001');
    assert.match(record.claimCode, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);

    const state = join(dir, 'state');
    const first = await exec(SCRIPT, ['SH-0001', factoryDir, 'localhost', String(fx.mqttPort), state]);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const device = (await fx.api<Device>('/api/v1/devices/SH-0001')).body;
    assert.equal(device.firmwareVersion, '1.0.0');
    assert.equal(device.serial, 'SH-0001');

    const again = await exec(SCRIPT, [
      'SH-0001',
      factoryDir,
      'localhost',
      String(fx.mqttPort),
      join(dir, 'state-2'),
    ]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already_provisioned/);
  });
});
