/**
 * The daemon's device actions on a real state dir: factory reset keeps the identity, logs are
 * gzip-bundled within the cap and uploaded, custom commands run without a shell with capped
 * output, self-test checks, and reboot/recovery without a configured command are rejected.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { systemClock } from '../../src/infra/clock.ts';
import { IDENTITY_FILES } from '../../src/agent/identity-store.ts';
import { linuxDeviceActions, type LinuxActionsOptions } from '../../src/agent/jobs/linux-actions.ts';
import { createLogRing } from '../../src/agent/jobs/log-ring.ts';
import { httpsLogUploader } from '../../src/agent/jobs/log-upload.ts';
import { runCustomCommand } from '../../src/agent/jobs/custom-command.ts';
import { buildLogBundle } from '../../src/agent/jobs/log-bundle.ts';
import { execCommandRunner } from '../../src/agent/update/command-runner.ts';
import type { ActionRejectedError } from '../../src/agent/jobs/types.ts';
import { createSelfSignedCa, issueDeviceCert, loadSigningCa } from '../../src/pki/x509.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-jobs-state-'));
  dirs.push(dir);
  return dir;
}

describe('linux device actions', () => {
  let certPem: string;
  let uploads: { url: string; body: Buffer }[];
  let server: Server;
  let url: string;

  before(async () => {
    const ca = await loadSigningCa(await createSelfSignedCa('test CA', 30, Date.now()));
    certPem = (await issueDeviceCert(ca, { deviceId: 'dev-1', serial: 'SN-1', validityDays: 10 }, Date.now()))
      .certPem;
    uploads = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        uploads.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => server.close());

  function actions(dir: string, extra: Partial<LinuxActionsOptions> = {}) {
    return linuxDeviceActions({
      clock: systemClock,
      runner: execCommandRunner,
      stateDir: dir,
      certPem: () => certPem,
      commands: [],
      logFiles: [],
      ring: createLogRing(100),
      upload: httpsLogUploader({ deviceHttpUrl: url, tls: undefined }),
      sensors: { read: (names) => Object.fromEntries(names.map((n) => [n, 42])) },
      minFreeBytes: 1,
      onReboot: () => {},
      ...extra,
    });
  }

  it('factory reset wipes data and config but keeps the identity and the execution book', async () => {
    const dir = await stateDir();
    for (const name of Object.values(IDENTITY_FILES)) await writeFile(join(dir, name), 'x');
    await mkdir(join(dir, 'telemetry'));
    await writeFile(join(dir, 'telemetry', 'outbox.log'), 'x');
    await mkdir(join(dir, 'jobs'));
    await writeFile(join(dir, 'config.json'), '{}');
    const outcome = await actions(dir).factoryReset({ wipeIdentity: false });
    assert.equal(outcome.ok, true);
    const left = (await readdir(dir)).sort();
    assert.deepEqual(left, [...Object.values(IDENTITY_FILES), 'jobs'].sort());
    assert.deepEqual(outcome.result?.['removed'], ['config.json', 'telemetry']);
  });

  it('factory reset with wipeIdentity removes the identity too', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, IDENTITY_FILES.key), 'x');
    await writeFile(join(dir, IDENTITY_FILES.cert), 'x');
    await actions(dir).factoryReset({ wipeIdentity: true });
    assert.deepEqual(await readdir(dir), []);
  });

  it('reboot and recovery without a configured command are rejected not_configured', async () => {
    const dir = await stateDir();
    const a = actions(dir);
    await assert.rejects(
      a.reboot(),
      (err: unknown) => (err as ActionRejectedError).code === 'not_configured',
    );
    await assert.rejects(
      a.recovery({}),
      (err: unknown) => (err as ActionRejectedError).code === 'not_configured',
    );
  });

  it('recovery persists its flag and runs the configured command; reboot runs its command then stops', async () => {
    const dir = await stateDir();
    let rebooted = false;
    const a = actions(dir, {
      recoveryCommand: ['true'],
      rebootCommand: ['true'],
      onReboot: () => (rebooted = true),
    });
    const outcome = await a.recovery({ reason: 'bricked app' });
    assert.equal(outcome.result?.['recovery'], true);
    const flag = JSON.parse(await readFile(join(dir, 'recovery.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(flag['reason'], 'bricked app');
    await a.reboot();
    assert.equal(rebooted, true);
    await assert.rejects(actions(dir, { rebootCommand: ['false'] }).reboot(), /exited with 1/);
  });

  it('logs bundles the log files and recent lines, gzip, uploaded for the execution', async () => {
    const dir = await stateDir();
    const file = join(dir, 'agent.log');
    await writeFile(file, 'line one\nline two\n');
    const ring = createLogRing(10);
    ring.push('{"msg":"recent"}');
    const outcome = await actions(dir, { logFiles: [file, join(dir, 'missing.log')], ring }).logs('ex-7', {});
    assert.equal(outcome.ok, true);
    assert.deepEqual(outcome.result?.['unreadableFiles'], [join(dir, 'missing.log')]);
    const upload = uploads.at(-1);
    assert.equal(upload?.url, '/device/v1/jobs/ex-7/logs');
    assert.equal(
      gunzipSync(upload?.body ?? Buffer.alloc(0)).toString(),
      'line one\nline two\n{"msg":"recent"}\n',
    );
  });

  it('logs without an upload URL are rejected not_configured', async () => {
    const dir = await stateDir();
    await assert.rejects(
      actions(dir, { upload: undefined }).logs('ex-8', {}),
      (err: unknown) => (err as ActionRejectedError).code === 'not_configured',
    );
  });

  it('a log bundle over the cap drops the oldest lines and says so', async () => {
    // Incompressible lines, so the cap bites.
    const lines = Array.from({ length: 2000 }, (_, i) => `${i} ${Math.random().toString(36).repeat(4)}`);
    const bundle = await buildLogBundle(lines, 20_000);
    assert.ok(bundle.gzip.length <= 20_000);
    assert.ok(bundle.droppedLines > 0);
    const text = gunzipSync(bundle.gzip).toString().split('\n');
    assert.match(text[0] ?? '', new RegExp(`^# ${bundle.droppedLines} older lines dropped`));
    assert.equal(text.at(-2), lines.at(-1));
    assert.equal(text.length - 2, bundle.lines);
    const small = await buildLogBundle(['a', 'b'], 20_000);
    assert.equal(small.droppedLines, 0);
  });

  it('self-test reports each check; a failing one fails the test', async () => {
    const dir = await stateDir();
    const run = {
      kind: 'run',
      executionId: 'e',
      jobId: 'j',
      attempt: 1,
      operation: 'self-test',
      params: {},
      deadlineMs: 0,
    } as const;
    const ok = await actions(dir).selfTest({ run, roundTripMs: 3 });
    assert.equal(ok.ok, true);
    const checks = ok.result?.['checks'] as { name: string; passed: boolean }[];
    assert.deepEqual(
      checks.map((c) => c.name),
      ['state-dir-writable', 'clock-sane', 'certificate-validity', 'broker-round-trip', 'free-disk'],
    );
    const bad = await actions(dir, { minFreeBytes: Number.MAX_SAFE_INTEGER }).selfTest({
      run,
      roundTripMs: undefined,
    });
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.code, 'self_test_failed');
    assert.match(bad.message ?? '', /broker-round-trip, free-disk/);
  });

  it('sensors read the sensor source', async () => {
    const outcome = await actions(await stateDir()).sensors(['battery_pct']);
    assert.deepEqual(outcome.result?.['values'], { battery_pct: 42 });
  });
});

describe('custom commands', () => {
  const node = process.execPath;

  it('passes params on stdin and in the environment, no shell; exit 0 succeeds', async () => {
    const script =
      'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stdout.write(s+"|"+process.env.FLOTILLA_JOB_PARAMS)})';
    const outcome = await runCustomCommand(
      { name: 'echo', argv: [node, '-e', script], timeoutS: 20 },
      { a: '$(id)' },
    );
    assert.equal(outcome.ok, true);
    assert.equal(outcome.result?.['stdout'], '{"a":"$(id)"}|{"a":"$(id)"}');
    assert.equal(outcome.result?.['exitCode'], 0);
  });

  it('a non-zero exit fails with the code; output is capped', async () => {
    const script = 'process.stdout.write("x".repeat(100000));process.stderr.write("oops");process.exitCode=3';
    const outcome = await runCustomCommand(
      { name: 'noisy', argv: [node, '-e', script], timeoutS: 20 },
      {},
      1000,
    );
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.code, 'exit_code');
    assert.equal(outcome.result?.['exitCode'], 3);
    assert.equal((outcome.result?.['stdout'] as string).length, 1000);
    assert.equal(outcome.result?.['stderr'], 'oops');
    assert.equal(outcome.result?.['truncated'], true);
  });

  it('a command running past its timeout is killed and fails with timeout', async () => {
    const outcome = await runCustomCommand(
      { name: 'sleepy', argv: [node, '-e', 'setTimeout(()=>{}, 60000)'], timeoutS: 1 },
      {},
    );
    assert.equal(!outcome.ok && outcome.code, 'timeout');
  });

  it('a missing executable fails with command_not_runnable', async () => {
    const outcome = await runCustomCommand({ name: 'ghost', argv: ['/nonexistent/ghost'], timeoutS: 5 }, {});
    assert.equal(!outcome.ok && outcome.code, 'command_not_runnable');
  });
});
