// End to end: a simulated fleet sends telemetry for a whole simulated day, compressed into about
// half a minute, through network drops and server crashes. Devices run the real agent telemetry
// stack (aggregation, on-disk outbox, sender; most over MQTT, a few uploading over HTTPS) on a
// clock that runs 2,880 times as fast from two days ago, so no timestamp is ever in the server's
// future (the fleet CA is made three days back, so certificates are valid on both clocks). The
// server is a child process killed with SIGKILL twice during the day; every device connection goes
// through a TCP relay that is cut, and once refuses connections for an hour. At the end every batch
// the devices queued is stored exactly once (by seq) or still in the device's outbox, every window
// of a stored batch is stored exactly once with its values, and the hourly and daily rollups of
// every scope equal the aggregates recomputed from the raw windows (model and firmware: once the
// fleet is registered).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { TelemetryBatch } from '../../src/contracts/telemetry-messages.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { ensureFleetPki } from '../../src/pki/fleet-pki.ts';
import { startSimulation, type SimulationHandle } from '../../src/sim/simulator.ts';
import { scaledTime } from '../helpers/scaled-time.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Device ms per wall-clock ms: a day in 30 s. */
const SPEED = 2880;
const MQTT_DEVICES = 36;
const HTTPS_DEVICES = 4;
const noop = () => undefined;
const silent: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };

interface WindowRow {
  device_id: string;
  kind: string;
  metric: string;
  start_ms: number;
  end_ms: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  last: number;
}
interface RollupRow {
  scope: string;
  scope_key: string;
  resolution: string;
  metric: string;
  bucket_start_ms: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  last_at_ms: number;
}
interface Expected {
  min: number;
  max: number;
  sum: number;
  count: number;
  lastAtMs: number;
  lasts: number[];
}

describe('a simulated day of fleet telemetry through drops and crashes', { timeout: 300_000 }, () => {
  let server: ServerProcess;
  /** The server's data directory, with a fleet PKI made before the devices' day began. */
  let dataDir: string;
  let mqttRelay: TcpProxy;
  let httpsRelay: TcpProxy;
  const sims: SimulationHandle[] = [];
  /** Every batch the devices queued, by `device\0seq`. */
  const produced = new Map<string, TelemetryBatch>();
  const time = scaledTime(Date.now() - 2 * DAY, SPEED);
  const dayStart = time.clock.now();
  const deps = { clock: time.clock, timers: time.timers, random: Math.random, logger: silent };
  /** Hourly buckets from here on hold only windows written after every device was registered. */
  let groupsKnownFromMs = Infinity;
  /** Model and firmware of every device, as the registry groups them. */
  const deviceGroups = new Map<string, { model: string; firmware: string }>();

  const storedSeqs = (): Set<string> => {
    const db = new Database(join(dataDir, 'flotilla.db'));
    try {
      const rows = db.prepare('SELECT device_id, seq FROM telemetry_batches').all() as Array<{
        device_id: string;
        seq: number;
      }>;
      return new Set(rows.map((r) => `${r.device_id}\0${r.seq}`));
    } finally {
      db.close();
    }
  };

  /** Sleeps in wall-clock time until the device clock reaches `hour` of the day. */
  const untilHour = async (hour: number): Promise<void> => {
    // A timer may fire a fraction of a millisecond early: wait again until the clock is there.
    for (;;) {
      const waitMs = (dayStart + hour * HOUR - time.clock.now()) / SPEED;
      if (waitMs <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs)));
    }
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'flotilla-day-'));
    await ensureFleetPki(dataDir, ['localhost'], Date.now() - 3 * DAY);
    server = await startServerProcess({ dataDir });
    mqttRelay = await startTcpProxy(server.mqttPort);
    httpsRelay = await startTcpProxy(Number(new URL(server.deviceHttpUrl).port));
    const telemetry = {
      // Readings every 5 min into 15-min windows, queued every 5 min: 96 windows a device-day.
      sampleMs: 5 * 60_000,
      windowMs: 15 * 60_000,
      sendMs: 5 * 60_000,
      // Device time: ~2.5 s of wall clock without an ack before resending.
      sender: { ackTimeoutMs: 2 * HOUR, retry: { initialMs: 10 * 60_000, maxMs: HOUR } },
      onQueued: (deviceId: string, batch: TelemetryBatch) => produced.set(`${deviceId}\0${batch.seq}`, batch),
    };
    const common = {
      serverUrl: `mqtts://127.0.0.1:${mqttRelay.port}`,
      dataDir: dataDir,
      // Device time again: reconnects within ~0.2–1.3 s of wall clock, heartbeats rare.
      backoff: { initialMs: 10 * 60_000, maxMs: HOUR },
      heartbeatIntervalS: 3600,
    };
    const deviceHttpUrl = `https://localhost:${httpsRelay.port}`;
    const boot = async (): Promise<void> => {
      sims.push(await startSimulation(deps, { ...common, devices: MQTT_DEVICES, seed: 21, telemetry }));
      sims.push(
        await startSimulation(deps, {
          ...common,
          devices: HTTPS_DEVICES,
          seed: 22,
          telemetry: { ...telemetry, transport: { kind: 'https', deviceHttpUrl } },
        }),
      );
    };
    // A first power-on registers every device (model, firmware), so the fleet's rollups group
    // all of the day's windows; a window written before the registry knows its device counts
    // only for the device and the fleet.
    await boot();
    await waitFor(
      async () => {
        const res = await server.api<{ count: number }>(
          `/api/v1/devices/count?where=${encodeURIComponent('model != ""')}`,
        );
        return res.body.count === MQTT_DEVICES + HTTPS_DEVICES;
      },
      { timeoutMs: 60_000, what: 'every device registered' },
    );
    for (const sim of sims.splice(0)) await sim.stop();
    await boot();
    groupsKnownFromMs = Math.ceil(time.clock.now() / HOUR) * HOUR;
    for (const sim of sims)
      for (const d of sim.devices)
        deviceGroups.set(d.deviceId, { model: d.hardware.model, firmware: d.firmwareVersion });
  });

  after(async () => {
    for (const sim of sims) await sim.stop();
    await mqttRelay?.close();
    await httpsRelay?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores every batch and window once, and rollups equal the raw aggregates', async (t) => {
    const ids = sims.flatMap((sim) => sim.devices.map((d) => d.deviceId));
    assert.equal(new Set(ids).size, MQTT_DEVICES + HTTPS_DEVICES, 'device ids are distinct');

    // The day: links cut (once refused for an hour), the server killed twice mid-stream.
    await untilHour(3);
    mqttRelay.cut();
    await untilHour(6);
    await server.kill();
    await server.start();
    await untilHour(Math.max(11, (time.clock.now() - dayStart) / HOUR + 1));
    mqttRelay.refuse();
    httpsRelay.refuse();
    mqttRelay.cut();
    httpsRelay.cut();
    await untilHour((time.clock.now() - dayStart) / HOUR + 1);
    mqttRelay.accept();
    httpsRelay.accept();
    await untilHour(Math.max(15, (time.clock.now() - dayStart) / HOUR + 1));
    await server.kill();
    await server.start();
    await untilHour(Math.max(19, (time.clock.now() - dayStart) / HOUR + 1));
    mqttRelay.cut();
    await untilHour(24);
    assert.ok(time.clock.now() - dayStart >= DAY);

    // Drain: the links stay up until everything queued so far is stored, then the fleet powers off.
    await waitFor(() => sims.every((sim) => sim.connectedCount() === sim.agents.length), {
      timeoutMs: 60_000,
      what: 'every device connected again',
    });
    await waitFor(
      () => {
        const stored = storedSeqs();
        return [...produced.keys()].every((key) => stored.has(key));
      },
      { timeoutMs: 60_000, intervalMs: 50, what: 'every queued batch stored' },
    );
    for (const sim of sims) await sim.stop();
    sims.length = 0;
    // Nothing more arrives; a last crash, so what is read below is what survived it.
    await server.kill();

    // Batches: stored or still queued on the device (the windows closed at power-off), none lost.
    const stored = storedSeqs();
    const queued = new Set<string>();
    for (const id of ids) {
      const dir = join(dataDir, 'sim', 'devices', id, 'telemetry');
      for (const name of await readdir(dir)) {
        const match = /^batch-(\d{16})\.json$/.exec(name);
        if (match) queued.add(`${id}\0${Number(match[1])}`);
      }
    }
    for (const key of produced.keys())
      assert.ok(stored.has(key) || queued.has(key), `batch ${key.replace('\0', ' #')} lost`);
    for (const key of stored) assert.ok(produced.has(key), `batch ${key.replace('\0', ' #')} never produced`);
    assert.ok(queued.size <= ids.length * 2, `only the power-off windows are left (${queued.size})`);

    const db = new Database(join(dataDir, 'flotilla.db'));
    try {
      const rejected = db.prepare('SELECT COALESCE(SUM(rejected), 0) AS n FROM telemetry_batches').get() as {
        n: number;
      };
      assert.equal(rejected.n, 0, 'no record refused');

      // Windows: exactly those of the stored batches, each once, with the values the device sent.
      const expected = new Map<string, string>();
      for (const [key, batch] of produced) {
        if (!stored.has(key)) continue;
        const deviceId = key.split('\0')[0] as string;
        for (const w of batch.windows)
          for (const [metric, v] of Object.entries(w.values)) {
            const wkey = `${deviceId}|${w.kind}|${metric}|${w.startMs}|${w.endMs}`;
            assert.ok(!expected.has(wkey), `the device produced ${wkey} twice`);
            expected.set(wkey, JSON.stringify([v.min, v.max, v.avg, v.count, v.last]));
          }
      }
      const rows = db.prepare('SELECT * FROM telemetry_windows').all() as WindowRow[];
      const seen = new Set<string>();
      for (const r of rows) {
        const wkey = `${r.device_id}|${r.kind}|${r.metric}|${r.start_ms}|${r.end_ms}`;
        assert.ok(!seen.has(wkey), `window ${wkey} stored twice`);
        seen.add(wkey);
        assert.equal(JSON.stringify([r.min, r.max, r.avg, r.count, r.last]), expected.get(wkey), wkey);
      }
      assert.equal(seen.size, expected.size, 'every window of a stored batch is stored');
      // The day was covered: 96 windows of 15 min a device. A tick that runs more than a window
      // late (312 ms of wall clock on a busy machine) skips that window's samples: not loss, as
      // the device never produced it, but the day must still be mostly there.
      const battery = (id: string) =>
        rows.filter((r) => r.device_id === id && r.metric === 'battery_pct').length;
      const fewest = Math.min(...ids.map(battery));
      assert.ok(fewest >= 48, `every device delivered a day of windows (fewest: ${fewest})`);

      // Rollups: every scope and resolution equals the aggregate of the raw windows.
      const recomputed = recomputeRollups(rows, deviceGroups);
      const rollups = db.prepare('SELECT * FROM telemetry_rollups').all() as RollupRow[];
      const scopes = new Set<string>();
      const partial: string[] = [];
      // Model and firmware come from the registry row when a batch is written: windows written
      // before the first power-on had registered their device count only for it and the fleet.
      // That can only touch the day buckets and the hours of the registration run.
      const registering = (scope: string, resolution: string, bucketStartMs: number): boolean =>
        (scope === 'model' || scope === 'firmware') &&
        (resolution === 'day' || bucketStartMs < groupsKnownFromMs);
      for (const r of rollups) {
        const key = `${r.scope}|${r.scope_key}|${r.resolution}|${r.metric}|${r.bucket_start_ms}`;
        scopes.add(r.scope);
        const want = recomputed.get(key);
        assert.ok(want, `rollup ${key} has no raw windows`);
        const exact =
          r.min === want.min &&
          r.max === want.max &&
          r.count === want.count &&
          Math.abs(r.sum - want.sum) <= 1e-9 * Math.max(1, Math.abs(want.sum)) &&
          r.last_at_ms === want.lastAtMs &&
          want.lasts.includes(r.last);
        if (exact) continue;
        assert.ok(
          registering(r.scope, r.resolution, r.bucket_start_ms),
          `${key}: ${JSON.stringify([r, want])}`,
        );
        assert.ok(r.count < want.count && r.min >= want.min && r.max <= want.max, `${key} over-counted`);
        partial.push(key);
      }
      // A bucket with raw windows has its rollup row (a group's may be missing for the same reason).
      const rowKeys = new Set(
        rollups.map((r) => `${r.scope}|${r.scope_key}|${r.resolution}|${r.metric}|${r.bucket_start_ms}`),
      );
      for (const key of recomputed.keys()) {
        if (rowKeys.has(key)) continue;
        const [scope = '', , resolution = '', , bucket = ''] = key.split('|');
        assert.ok(registering(scope, resolution, Number(bucket)), `no rollup row ${key}`);
        partial.push(key);
      }
      t.diagnostic(`group rollups of the registration run short of the raw windows: ${partial.length}`);
      assert.deepEqual([...scopes].sort(), ['device', 'firmware', 'fleet', 'model']);
    } finally {
      db.close();
    }
  });
});

/** Hourly and daily aggregates of raw windows per scope: a window counts in the bucket of its start. */
function recomputeRollups(
  rows: readonly WindowRow[],
  groups: ReadonlyMap<string, { model: string; firmware: string }>,
): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const w of rows) {
    const g = groups.get(w.device_id);
    const scopes: Array<[string, string]> = [
      ['device', w.device_id],
      ['fleet', ''],
    ];
    if (g) scopes.push(['model', g.model], ['firmware', g.firmware]);
    for (const [resolution, size] of [
      ['hour', HOUR],
      ['day', DAY],
    ] as const) {
      const bucket = Math.floor(w.start_ms / size) * size;
      for (const [scope, scopeKey] of scopes) {
        const key = `${scope}|${scopeKey}|${resolution}|${w.metric}|${bucket}`;
        const e = out.get(key);
        if (!e) {
          out.set(key, {
            min: w.min,
            max: w.max,
            sum: w.avg * w.count,
            count: w.count,
            lastAtMs: w.end_ms,
            lasts: [w.last],
          });
          continue;
        }
        e.min = Math.min(e.min, w.min);
        e.max = Math.max(e.max, w.max);
        e.sum += w.avg * w.count;
        e.count += w.count;
        if (w.end_ms > e.lastAtMs) {
          e.lastAtMs = w.end_ms;
          e.lasts = [w.last];
        } else if (w.end_ms === e.lastAtMs) e.lasts.push(w.last);
      }
    }
  }
  return out;
}
