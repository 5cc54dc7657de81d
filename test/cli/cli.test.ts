/** The `flotilla` command as a user runs it: the package's bin in a child process. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { opensslKeyAndCsr } from '../helpers/openssl.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../helpers/wait.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { allCommandPaths, commandHelp, findCommand } from '../helpers/cli-help.ts';
import { FLOTILLA_BIN, runFlotilla } from '../helpers/flotilla-cli.ts';

const BIN = FLOTILLA_BIN;

const flotilla = runFlotilla;

describe('flotilla CLI', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await createServerFixture();
    await fx
      .server()
      .store.createDevice(
        { id: 'cli-1', serial: 'SN-CLI-1', hardwareModel: 'tracker-2', tags: { site: 'berlin' } },
        Date.now(),
      );
    await fx
      .server()
      .store.createDevice({ id: 'cli-2', serial: 'SN-CLI-2', hardwareModel: 'gateway-x1' }, Date.now());
  });
  after(async () => {
    await fx?.close();
  });

  it('prints help for every command', async () => {
    // The bin itself, once; then every command of the tree it parses, in this process.
    const root = await flotilla(['--help']);
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stdout, /Usage: flotilla/);
    const paths = allCommandPaths();
    assert.ok(paths.length > 80, `only ${paths.length} commands`);
    for (const path of paths) {
      const help = commandHelp(path);
      assert.match(help, new RegExp(`Usage: flotilla ${path.join(' ')}\\b`), path.join(' '));
      assert.ok(findCommand(path).description().length > 10, `flotilla ${path.join(' ')} has no description`);
    }
  });

  it('lists and gets devices as JSON for scripts', async () => {
    const server = `http://127.0.0.1:${fx.httpPort}`;
    const list = await flotilla(['devices', 'list', '--server', server, '--model', 'tracker-2', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const parsed = JSON.parse(list.stdout) as { items: Array<{ id: string }> };
    assert.deepEqual(
      parsed.items.map((d) => d.id),
      ['cli-1'],
    );

    const all = await flotilla(['devices', 'list', '--limit', '1', '--all', '--json'], {
      FLOTILLA_URL: server,
    });
    assert.deepEqual(
      (JSON.parse(all.stdout) as { items: Array<{ id: string }> }).items.map((d) => d.id),
      ['cli-1', 'cli-2'],
    );

    const table = await flotilla(['devices', 'list', '--server', server, '--tag', 'site=berlin']);
    assert.match(table.stdout, /^ID\s+SERIAL/m);
    assert.match(table.stdout, /cli-1\s+SN-CLI-1\s+tracker-2/);

    const get = await flotilla(['devices', 'get', 'cli-2', '--server', server, '--json']);
    assert.equal((JSON.parse(get.stdout) as { serial: string }).serial, 'SN-CLI-2');
  });

  it('reports API errors and unreachable servers clearly', async () => {
    const server = `http://127.0.0.1:${fx.httpPort}`;
    const missing = await flotilla(['devices', 'get', 'nope', '--server', server]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /device nope not found/);
    const badState = await flotilla(['devices', 'list', '--server', server, '--state', 'asleep']);
    assert.equal(badState.code, 1);
    assert.match(badState.stderr, /query\.state/);
    const down = await flotilla(['devices', 'list', '--server', 'http://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the Flotilla server/);
  });

  it('refuses invalid configuration naming the field, before starting anything', async () => {
    const env = await flotilla(['server'], { FLOTILLA_HTTP_PORT: 'eighty' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /http\.port/);
    const flag = await flotilla(['server', '--store', 'oracle']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /store\.kind.*command line/);
  });

  it('runs the server until SIGTERM, then stops cleanly with exit code 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-cli-server-'));
    const [httpPort, mqttPort, deviceHttpPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        BIN,
        'server',
        '--data-dir',
        dataDir,
        '--http-port',
        String(httpPort),
        '--mqtt-port',
        String(mqttPort),
        '--device-http-port',
        String(deviceHttpPort),
        '--demo-devices',
        '3',
      ],
      // Access control is tested in test/access (including `npm start`'s login line).
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOTILLA_AUTH_ENABLED: 'false' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/fleet/summary`).catch(
            () => undefined,
          );
          return response?.ok === true && ((await response.json()) as { online: number }).online === 3;
        },
        { what: `server with 3 demo devices online; output:\n${output}`, timeoutMs: 30_000 },
      );
      assert.match(output, new RegExp(`http://127\\.0\\.0\\.1:${httpPort}/`));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.match(output, /"msg":"stopped"/);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('provisions with the factory CLI, renders a label, revokes and shows the audit trail', async () => {
    const server = `http://127.0.0.1:${fx.httpPort}`;
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-cli-factory-'));
    try {
      await writeFile(join(dir, 'serials.csv'), 'serial,note\nCLI-F1,first\n');
      const batch = await flotilla([
        'factory',
        'batch',
        '--serials',
        join(dir, 'serials.csv'),
        '--model',
        'm',
        '--revision',
        'r',
        '--out',
        join(dir, 'out'),
        '--server',
        server,
        '--json',
      ]);
      assert.equal(batch.code, 0, batch.stderr);
      const { batchId } = JSON.parse(batch.stdout) as { batchId: string };
      const { csrPem } = await opensslKeyAndCsr(dir, 'f1', '/CN=CLI-F1/serialNumber=CLI-F1');
      await writeFile(join(dir, 'f1.csr'), csrPem);
      const signed = await flotilla([
        'factory',
        'sign-csr',
        join(dir, 'f1.csr'),
        '--batch',
        batchId,
        '--out',
        join(dir, 'f1.pem'),
        '--server',
        server,
      ]);
      assert.equal(signed.code, 0, signed.stderr);
      assert.match(
        await readFile(join(dir, 'f1.pem'), 'utf8'),
        /BEGIN CERTIFICATE[\s\S]*BEGIN CERTIFICATE[\s\S]*BEGIN CERTIFICATE/,
      );
      const again = await flotilla([
        'factory',
        'sign-csr',
        join(dir, 'f1.csr'),
        '--batch',
        batchId,
        '--out',
        join(dir, 'f1b.pem'),
        '--server',
        server,
      ]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already_provisioned/);

      const label = await flotilla([
        'devices',
        'label',
        'CLI-F1',
        '--out',
        join(dir, 'label.svg'),
        '--server',
        server,
      ]);
      assert.equal(label.code, 0, label.stderr);
      assert.match(await readFile(join(dir, 'label.svg'), 'utf8'), /<svg[\s\S]*CLI-F1/);

      const revoke = await flotilla([
        'devices',
        'revoke',
        'CLI-F1',
        '--reason',
        'lost',
        '--server',
        server,
        '--json',
      ]);
      assert.equal(revoke.code, 0, revoke.stderr);
      assert.equal(
        (JSON.parse(revoke.stdout) as { revokedCertificates: string[] }).revokedCertificates.length,
        1,
      );
      const audit = await flotilla(['devices', 'audit', 'CLI-F1', '--server', server, '--json']);
      const actions = (JSON.parse(audit.stdout) as { items: Array<{ action: string }> }).items.map(
        (e) => e.action,
      );
      assert.deepEqual(actions, ['device.revoked', 'provisioning.refused', 'device.provisioned']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
