/** `GET /api/v1/plan` over real HTTP against a started server, and `flotilla plan --server` against it. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import { planResultSchema } from '../../src/plan/index.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { loadExample, withChanges } from './plan-fixtures.ts';

let server: ServerFixture;
let dir = '';

before(async () => {
  server = await createServerFixture();
  dir = await mkdtemp(join(tmpdir(), 'flotilla-plan-api-'));
  const store = server.server().store;
  const devices = [
    { id: 'HUB-1', model: 'hub-1', firmware: '1.0.0' },
    { id: 'HUB-2', model: 'hub-1', firmware: '1.1.0' },
    { id: 'HUB-3', model: 'hub-2', firmware: '1.1.0' },
  ];
  for (const d of devices)
    await store.createDevice(
      { id: d.id, serial: d.id, hardwareModel: d.model, firmwareVersion: d.firmware },
      Date.now(),
    );
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** HUB-1 connects with its own certificate and sends two telemetry batches; each PUBACK follows the store write. */
async function sendTelemetry(): Promise<void> {
  const cert = await issueDeviceCert(
    server.server().pki.issuingCa,
    { deviceId: 'HUB-1', serial: 'HUB-1', validityDays: 1 },
    Date.now(),
  );
  const client = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
    clientId: 'HUB-1',
    protocolVersion: 4,
    reconnectPeriod: 0,
    ca: server.server().pki.chainPem,
    cert: cert.certPem,
    key: cert.keyPem,
  });
  try {
    const end = Math.floor(Date.now() / 300_000) * 300_000;
    for (const seq of [1, 2]) {
      const startMs = end - seq * 300_000;
      const batch = {
        seq,
        sentAtMs: Date.now(),
        windows: [
          {
            kind: 'health',
            startMs,
            endMs: startMs + 300_000,
            values: { battery_pct: { min: 1, max: 3, avg: 2, count: 5, last: 3 } },
          },
        ],
      };
      await client.publishAsync('fl/d/HUB-1/telemetry', JSON.stringify(batch), { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
}

const planUrl = (input: unknown, chartFile?: string) => {
  const params = new URLSearchParams({ input: JSON.stringify(input) });
  if (chartFile !== undefined) params.set('chartFile', chartFile);
  return `/api/v1/plan?${params.toString()}`;
};

describe('GET /api/v1/plan', () => {
  it('answers the plan from the live configuration and fleet', async () => {
    const input = await loadExample('plan-wifi-small');
    const response = await server.api<unknown>(planUrl(input, 'hubs.svg'));
    assert.equal(response.status, 200);
    const plan = planResultSchema.parse(response.body);
    assert.match(plan.markdown, /and the running server at http:\/\/127\.0\.0\.1:\d+\./);
    assert.match(plan.markdown, /## Live fleet/);
    assert.match(plan.markdown, /\| devices \| 3 registered, 0 online \|/);
    assert.match(plan.markdown, /\| models \| hub-1 \(2\), hub-2 \(1\) \|/);
    assert.match(plan.markdown, /1\.1\.0 \(2\)/);
    assert.match(plan.markdown, /\| fleet \| 3 now, 10,000 projected; models hub-1, hub-2 \|/);
    assert.ok(plan.markdown.includes('![Cost per device against fleet size](hubs.svg)'));
    assert.match(plan.chartSvg, /^<svg /);
    // The server's own config replaces the planned one: it has no alert channels and the shipped rules.
    const alerting = plan.checks.find((c) => c.name === 'alert thresholds with escalation');
    assert.equal(alerting?.pass, false);
    assert.match(alerting.evidence, /no notification channel/);
    assert.match(plan.markdown, /the server's own \(store sqlite, 0 alert channels\), 6 alert rules/);
  });

  it('reports the telemetry the server stored since it started', async () => {
    const input = await loadExample('plan-wifi-small');
    const before = planResultSchema.parse((await server.api<unknown>(planUrl(input))).body);
    assert.match(before.markdown, /\| telemetry measured \| nothing stored since the server started \|/);
    await sendTelemetry();
    const after = planResultSchema.parse((await server.api<unknown>(planUrl(input))).body);
    assert.match(
      after.markdown,
      /\| telemetry measured \| [\d,.]+ batches and [\d,.]+ records per device per day \(over [\d.]+ (s|min) since the server started\); modelled: 1,440 batches/,
    );
  });

  it('refuses an input that is not JSON, or invalid, naming the field (400)', async () => {
    const notJson = await server.api<{ error: { code: string; message: string } }>(
      '/api/v1/plan?input=%7Bnope',
    );
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error.message, /input: expected the plan input document as JSON/);
    const input = await loadExample('plan-wifi-small');
    const bad = await server.api<{ error: { message: string } }>(
      planUrl({ ...input, hardware: { ...input.hardware, ramMiB: -1 } }),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /hardware\.ramMiB: expected a positive number/);
    const chart = await server.api<{ error: { message: string } }>(planUrl(input, '../x.svg'));
    assert.equal(chart.status, 400);
  });

  it("flotilla plan --server writes the live document; --strict follows the server's findings", async () => {
    // Planned on PostgreSQL; the live server runs SQLite, which a million Wi-Fi hubs would overrun.
    const file = join(dir, 'hubs.json');
    const input = withChanges(await loadExample('plan-wifi-small'), {
      'fleet.devicesProjected': 1_000_000,
      'configuration.server.store': { kind: 'postgres', postgresUrl: 'postgres://flotilla@db/flotilla' },
    });
    await writeFile(file, JSON.stringify(input));
    const local = await runFlotilla(['plan', '--input', file, '--strict', '--out', join(dir, 'local.md')]);
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, 'live.md');
    const url = `http://127.0.0.1:${server.httpPort}`;
    const result = await runFlotilla(['plan', '--input', file, '--server', url, '--out', out, '--strict']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /error: configuration\.server\.store\.kind: SQLite \(one writer\)/);
    const json = await runFlotilla(['plan', '--input', file, '--server', url, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const plan = planResultSchema.parse(JSON.parse(json.stdout));
    assert.equal(plan.blocking, true);
    const refused = await runFlotilla(['plan', '--input', file, '--server', url, '--benchmarks', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--benchmarks: with --server the server uses its own benchmark figures/);
  });
});
