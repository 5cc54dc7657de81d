/**
 * provisionDevice against a scripted HTTPS server: which answers are retried with backoff,
 * which stop it, and what it checks before accepting a certificate. (The real server is
 * exercised in test/e2e/agent-provisioning.e2e.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { provisionDevice, type ProvisioningEndpoint } from '../../src/agent/provisioning.ts';
import { ProvisioningRefusedError } from '../../src/agent/provisioning-errors.ts';
import type { AgentLogger } from '../../src/agent/types.ts';
import type { ProvisionResponse } from '../../src/contracts/provisioning-messages.ts';
import { ValidationError } from '../../src/infra/errors.ts';
import { systemTimers } from '../../src/infra/timers.ts';
import { parseDeviceCsr } from '../../src/pki/csr.ts';
import { issueDeviceCertFromCsr } from '../../src/pki/device-certs.ts';
import { ensureFleetPki, type FleetPki } from '../../src/pki/fleet-pki.ts';
import { issueDeviceCert } from '../../src/pki/x509.ts';
import { freePort, waitFor } from '../helpers/wait.ts';

/** A canned answer, or a certificate: right, naming another device than the answer, or for another key. */
type Answer = { status: number; body: string } | 'issue' | 'issue-other-name' | 'issue-other-key';

interface LogLine {
  msg: string;
  obj: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): AgentLogger {
  const record = (obj: Record<string, unknown>, msg: string) => lines.push({ msg, obj });
  return { debug: record, info: record, warn: record, error: record };
}

describe('provisionDevice', () => {
  let dir: string;
  let pki: FleetPki;
  let server: Server;
  let url: string;
  let claim: { certPem: string; keyPem: string };
  /** What the server answers, one entry per request; the last one repeats. */
  let script: Answer[] = [];
  let requests = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-provision-'));
    pki = await ensureFleetPki(dir, ['localhost'], Date.now());
    claim = await issueDeviceCert(
      pki.issuingCa,
      { deviceId: 'claim', serial: 'claim', validityDays: 1 },
      Date.now(),
    );
    server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const answer = script[Math.min(requests, script.length - 1)] ?? { status: 500, body: '' };
        requests += 1;
        void respond(answer, body).then(({ status, text }) => res.writeHead(status).end(text));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  async function respond(answer: Answer, body: string): Promise<{ status: number; text: string }> {
    if (typeof answer !== 'string') return { status: answer.status, text: answer.body };
    const { serial, csrPem } = JSON.parse(body) as { serial: string; csrPem: string };
    const parsed = await parseDeviceCsr(csrPem);
    if (!parsed.ok) return { status: 400, text: '{}' };
    const certPem =
      answer === 'issue-other-key'
        ? (await issueDeviceCert(pki.issuingCa, { deviceId: serial, serial, validityDays: 1 }, Date.now()))
            .certPem
        : (
            await issueDeviceCertFromCsr(
              pki.issuingCa,
              {
                deviceId: answer === 'issue' ? serial : 'someone-else',
                serial,
                publicKey: parsed.csr.publicKey,
                validityDays: 1,
              },
              Date.now(),
            )
          ).certPem;
    const response: ProvisionResponse = {
      status: 'accepted',
      deviceId: serial,
      certificatePem: certPem,
      caChainPem: pki.chainPem,
      mqttUrl: 'mqtts://localhost:8883',
    };
    return { status: 200, text: JSON.stringify(response) };
  }

  function run(answers: Answer[], overrides: { endpoint?: ProvisioningEndpoint; signal?: AbortSignal } = {}) {
    script = answers;
    requests = 0;
    const logs: LogLine[] = [];
    const deps = {
      clock: { now: () => Date.now() },
      timers: systemTimers,
      random: () => 1,
      logger: recordingLogger(logs),
    };
    const result = provisionDevice(deps, {
      ...(overrides.endpoint ?? { transport: 'https', httpsUrl: url }),
      serial: 'SN-1',
      claim,
      caChainPem: pki.chainPem,
      backoff: { initialMs: 5, maxMs: 20 },
      ...(overrides.signal ? { signal: overrides.signal } : {}),
    });
    return { logs, result };
  }

  const rejected = (code: string, status: number) => ({
    status,
    body: JSON.stringify({ status: 'rejected', code, message: `because ${code}` }),
  });

  it('retries server errors and invalid answers with backoff, then returns the identity', async () => {
    const { logs, result } = run([
      rejected('internal_error', 503),
      { status: 502, body: '<html>proxy</html>' },
      'issue',
    ]);
    const identity = await result;
    assert.equal(identity.deviceId, 'SN-1');
    assert.equal(identity.mqttUrl, 'mqtts://localhost:8883');
    assert.match(identity.keyPem, /BEGIN PRIVATE KEY/);
    const retries = logs.filter((l) => l.msg === 'provisioning failed; retrying');
    assert.deepEqual(
      retries.map((l) => [l.obj['reason'], l.obj['retryInMs']]),
      [
        ['internal_error: because internal_error', 5],
        ['invalid response from server: payload is not JSON', 10],
      ],
    );
  });

  it('stops at once on a permanent refusal, with its code', async () => {
    const { result } = run([rejected('claim_expired', 403)]);
    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof ProvisioningRefusedError);
      assert.equal(error.code, 'claim_expired');
      assert.equal(error.serial, 'SN-1');
      return true;
    });
    assert.equal(requests, 1);
  });

  it('does not accept a certificate for another device or another key', async () => {
    await assert.rejects(run(['issue-other-name']).result, /certificate names someone-else/);
    await assert.rejects(
      run(['issue-other-key']).result,
      (error: unknown) => error instanceof ValidationError,
    );
  });

  it('retries when nothing listens, until aborted', async () => {
    const abort = new AbortController();
    const port = await freePort();
    const { logs, result } = run([], {
      endpoint: { transport: 'https', httpsUrl: `https://localhost:${port}` },
      signal: abort.signal,
    });
    await waitFor(() => logs.filter((l) => l.msg === 'provisioning failed; retrying').length >= 3, {
      what: 'three retries',
    });
    abort.abort(new Error('shutting down'));
    await assert.rejects(result, /shutting down/);
  });

  it('provisions over MQTT too (connection refused is retried the same way)', async () => {
    const abort = new AbortController();
    const port = await freePort();
    const { logs, result } = run([], {
      endpoint: { transport: 'mqtt', mqttUrl: `mqtts://localhost:${port}` },
      signal: abort.signal,
    });
    await waitFor(() => logs.some((l) => l.msg === 'provisioning failed; retrying'), { what: 'a retry' });
    abort.abort(new Error('shutting down'));
    await assert.rejects(result, /shutting down/);
  });
});
