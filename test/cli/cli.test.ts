/** The `flotilla` command as a user runs it: the package's bin in a child process. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../helpers/wait.ts';
import { fileURLToPath } from 'node:url';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function flotilla(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

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
    for (const args of [
      ['--help'],
      ['server', '--help'],
      ['agent', '--help'],
      ['simulate', '--help'],
      ['devices', '--help'],
      ['devices', 'list', '--help'],
      ['devices', 'get', '--help'],
    ]) {
      const result = await flotilla(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /Usage: flotilla/, args.join(' '));
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
      { stdio: ['ignore', 'pipe', 'pipe'] },
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
});
