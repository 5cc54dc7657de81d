/** `flotilla telemetry …` as a user runs it: the package's bin in a child process against a real server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url));

function flotilla(
  args: string[],
  serverUrl: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, FLOTILLA_URL: serverUrl }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('flotilla telemetry CLI', () => {
  let fx: ServerFixture;
  let url = '';
  const t = Date.now() - 3_600_000;
  before(async () => {
    fx = await createServerFixture();
    url = fx.server().httpUrl;
    await fx.server().store.createDevice({ id: 'cli-t1', serial: 'SN-T1', hardwareModel: 'tracker-2' }, t);
    await fx.server().stores.telemetry.writeBatches([
      {
        deviceId: 'cli-t1',
        seq: 1,
        receivedAtMs: t,
        windows: [
          {
            kind: 'health',
            metric: 'battery_pct',
            startMs: t,
            endMs: t + 300_000,
            min: 1,
            max: 3,
            avg: 2,
            count: 3,
            last: 3,
          },
        ],
        events: [{ type: 'error', atMs: t, severity: 'error', code: 'E_SENSOR', message: 'timeout' }],
        accepted: 2,
        rejected: 0,
      },
    ]);
  });
  after(async () => {
    await fx?.close();
  });

  it('prints help for every telemetry command', async () => {
    // One child process per command is slow on a loaded machine: the group and one leaf.
    for (const args of [['telemetry'], ['telemetry', 'query']]) {
      const result = await flotilla([...args, '--help'], url);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /Usage: flotilla telemetry/);
    }
  });

  it('queries series, latest values and events as JSON and as tables', async () => {
    const query = await flotilla(
      [
        'telemetry',
        'query',
        '--device',
        'cli-t1',
        '--metric',
        'battery_pct',
        '--resolution',
        'raw',
        '--json',
      ],
      url,
    );
    assert.equal(query.code, 0, query.stderr);
    const series = JSON.parse(query.stdout) as { points: Array<{ avg: number; count: number }> };
    assert.deepEqual(
      series.points.map((p) => [p.avg, p.count]),
      [[2, 3]],
    );
    const byModel = await flotilla(
      ['telemetry', 'query', '--model', 'tracker-2', '--metric', 'battery_pct'],
      url,
    );
    assert.equal(byModel.code, 0, byModel.stderr);
    assert.match(byModel.stdout, /^START\s+END\s+MIN\s+AVG\s+MAX\s+LAST\s+COUNT\n.*\s1\s+2\s+3\s+3\s+3\n$/);
    const latest = await flotilla(['telemetry', 'latest', 'cli-t1', '--json'], url);
    assert.deepEqual(
      (JSON.parse(latest.stdout) as { items: Array<{ value: number }> }).items.map((v) => v.value),
      [3],
    );
    const events = await flotilla(['telemetry', 'events', 'cli-t1', '--type', 'error'], url);
    assert.match(events.stdout, /E_SENSOR\s+timeout/);
  });

  it('reports bad parameters with the server message and exit code 1', async () => {
    const result = await flotilla(['telemetry', 'query', '--device', 'cli-t1', '--metric', 'Bad-Name'], url);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /metric names match/);
  });

  it('lists the archive catalog (empty until the retention job has archived a day)', async () => {
    const json = await flotilla(['telemetry', 'archive', '--json'], url);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { items: [] });
    const table = await flotilla(['telemetry', 'archive', '--table', 'events'], url);
    assert.match(table.stdout, /DAY\s+TABLE\s+KIND\s+ROWS\s+BYTES\s+PATH/);
    const help = await flotilla(['telemetry', 'archive', '--help'], url);
    assert.match(help.stdout, /Parquet files of the cold tier/);
  });
});
