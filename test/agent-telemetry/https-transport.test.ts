/**
 * Telemetry as gzip-compressed HTTPS uploads with the device certificate (mTLS). The server is a
 * small node:https stand-in for the server's `POST /device/v1/telemetry`, being built in parallel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { telemetryUploadSchema, type TelemetryAck } from '../../src/contracts/telemetry-messages.ts';
import { createDeviceTelemetry } from '../../src/agent/telemetry/device-telemetry.ts';
import { TELEMETRY_DEFAULTS } from '../../src/agent/telemetry/settings.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import { systemClock } from '../../src/infra/clock.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { ensureFleetPki, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { deviceCert } from '../helpers/mosquitto-fixture.ts';
import { createIngestStandIn, type IngestStandIn } from '../helpers/telemetry-responder.ts';
import { freePort, waitFor } from '../helpers/wait.ts';

const noop = () => undefined;
const logger: AgentLogger = { debug: noop, info: noop, warn: noop, error: noop };
const deps = { clock: systemClock, timers: systemTimers, random: Math.random, logger };

interface Upload {
  deviceId: string;
  gzip: boolean;
  batches: number;
}

describe('telemetry over HTTPS (gzip batch upload, mTLS)', () => {
  let dir: string;
  let pki: FleetPki;
  let server: Server;
  let url: string;
  let ingest: IngestStandIn;
  const uploads: Upload[] = [];
  /** What the stand-in does with the next requests: fail, answer part, or answer all. */
  const script: ('fail' | 'half' | 'all')[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-th-'));
    pki = await ensureFleetPki(join(dir, 'server'), ['localhost'], Date.now());
    ingest = createIngestStandIn();
    server = createServer(
      {
        key: pki.server.keyPem,
        cert: pki.server.certPem,
        ca: pki.chainPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const deviceId = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
          const gzip = req.headers['content-encoding'] === 'gzip';
          const raw = Buffer.concat(chunks);
          const body = telemetryUploadSchema.parse(
            JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8')),
          );
          uploads.push({ deviceId, gzip, batches: body.batches.length });
          const mode = script.shift() ?? 'all';
          if (req.method !== 'POST' || req.url !== '/device/v1/telemetry' || mode === 'fail') {
            res.writeHead(503).end('{"error":"busy"}');
            return;
          }
          const acks: TelemetryAck[] = body.batches.map((b) => ingest.receive(deviceId, b));
          const answered = mode === 'half' ? acks.slice(0, Math.ceil(acks.length / 2)) : acks;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ acks: answered }));
        });
      },
    );
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads queued batches gzip-compressed, retries failures and resends what was not acked', async () => {
    const cert = await deviceCert(pki, 'th-1');
    const telemetry = await createDeviceTelemetry(deps, {
      settings: TELEMETRY_DEFAULTS,
      outbox: { dir: join(dir, 'th-1') },
      transport: {
        kind: 'https',
        deviceHttpUrl: url,
        tls: { caPem: pki.chainPem, certPem: cert.certPem, keyPem: cert.keyPem },
      },
      sender: { maxInFlight: 100, retry: { initialMs: 50, maxMs: 200 } },
      boot: { code: 'power_on' },
    });
    // A device that was asleep: batches queued before it sends anything.
    for (let i = 0; i < 6; i++) {
      await telemetry.outbox.append({
        windows: [],
        events: [{ type: 'error', atMs: Date.now(), severity: 'error', code: `E_${i}` }],
      });
    }
    script.push('fail', 'half');
    telemetry.start();
    await waitFor(() => telemetry.outbox.seqs().length === 0, { what: 'the outbox to empty' });
    await telemetry.stop();

    assert.ok(uploads.every((u) => u.gzip && u.deviceId === 'th-1'));
    assert.ok((uploads[0]?.batches ?? 0) >= 6, 'the first upload carries the whole queue');
    assert.ok(uploads.length >= 3, 'failed, half-answered, then the rest');
    const stored = ingest.seqs('th-1');
    assert.deepEqual(stored.slice(0, 6), [1, 2, 3, 4, 5, 6]);
    const events = [...(ingest.stored.get('th-1')?.values() ?? [])].flatMap((b) =>
      b.events.map((e) => e.code),
    );
    assert.ok(events.includes('power_on'), 'the boot event went too');
  });
});
