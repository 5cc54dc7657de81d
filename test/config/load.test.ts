import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/infra/errors.ts';

describe('server configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has embedded defaults', () => {
    const config = loadServerConfig({ env: {} });
    assert.equal(config.store.kind, 'sqlite');
    assert.equal(config.mqtt.port, 8883);
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.dataDir, '.data');
  });

  it('takes file, then environment, then flags, later ones winning', async () => {
    const file = join(dir, 'flotilla.yaml');
    await writeFile(file, 'dataDir: /from/file\nhttp:\n  port: 9000\n  host: 0.0.0.0\nmqtt:\n  port: 9001\n');
    const config = loadServerConfig({
      file,
      env: { FLOTILLA_HTTP_PORT: '9100', FLOTILLA_MQTT_PORT: '9101' },
      flags: { mqtt: { port: 9201 } },
    });
    assert.equal(config.dataDir, '/from/file');
    assert.equal(config.http.host, '0.0.0.0');
    assert.equal(config.http.port, 9100);
    assert.equal(config.mqtt.port, 9201);
  });

  it('reads JSON files and FLOTILLA_CONFIG', async () => {
    const file = join(dir, 'flotilla.json');
    await writeFile(file, JSON.stringify({ demoDevices: 5 }));
    assert.equal(loadServerConfig({ env: { FLOTILLA_CONFIG: file } }).demoDevices, 5);
  });

  it('names the field and the source of a bad value', async () => {
    assert.throws(
      () => loadServerConfig({ env: { FLOTILLA_HTTP_PORT: 'eighty' } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /http\.port/);
        assert.match(err.message, /FLOTILLA_HTTP_PORT/);
        return true;
      },
    );
    assert.throws(() => loadServerConfig({ flags: { mqtt: { port: 70000 } } }), /mqtt\.port.*command line/s);
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'store:\n  kind: oracle\nhtp: {}\n');
    assert.throws(
      () => loadServerConfig({ file }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /store\.kind/);
        assert.match(err.message, /htp/);
        return true;
      },
    );
  });

  it('requires a PostgreSQL URL when the store is postgres', () => {
    assert.throws(() => loadServerConfig({ env: { FLOTILLA_STORE: 'postgres' } }), /store\.postgresUrl/);
  });

  it('reports unreadable and unparsable files', async () => {
    assert.throws(() => loadServerConfig({ file: join(dir, 'missing.yaml') }), /cannot be read/);
    const file = join(dir, 'broken.json');
    await writeFile(file, '{');
    assert.throws(() => loadServerConfig({ file }), /not valid JSON/);
  });
});
