/**
 * Certificate renewal without a broker: when it is due, what is sent, what the answer must be
 * before the agent switches, and how failures are retried. Time is a fake clock.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readCertificateInfo } from '../../src/agent/certificate-info.ts';
import { createKeyAndCsr } from '../../src/agent/csr.ts';
import { isRetryableRefusal } from '../../src/agent/provisioning-errors.ts';
import { createRenewal, renewalDueAtMs, type RenewalHost } from '../../src/agent/renewal.ts';
import type { AgentLogger, RenewalOptions, RenewedCertificate, Timers } from '../../src/agent/types.ts';
import {
  provisionRefusalCodes,
  renewRequestSchema,
  type ProvisionResponse,
} from '../../src/contracts/provisioning-messages.ts';
import { parseDeviceCsr } from '../../src/pki/csr.ts';
import {
  createSelfSignedCa,
  DAY_MS,
  issueDeviceCert,
  loadSigningCa,
  type KeyPairPem,
} from '../../src/pki/x509.ts';

/** Timeouts that fire when the test says so. */
function manualTimers(): Timers & { fire(): void } {
  const pending = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (callback) => {
      pending.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => pending.delete(handle as number),
    setInterval: () => 0,
    clearInterval: () => undefined,
    fire() {
      const due = [...pending.values()];
      pending.clear();
      due.forEach((callback) => callback());
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('renewal schedule', () => {
  it('is due after the given fraction of the lifetime', () => {
    assert.equal(renewalDueAtMs({ notBeforeMs: 1000, notAfterMs: 4000 }, 2 / 3), 3000);
  });

  it('reads validity and names from the certificate', async () => {
    const ca = await loadSigningCa(await createSelfSignedCa('CA', 10, Date.now()));
    const pair = await issueDeviceCert(ca, { deviceId: 'dev-7', serial: 'SN-7', validityDays: 3 }, 1_000_000);
    const info = readCertificateInfo(pair.certPem);
    assert.equal(info.commonName, 'dev-7');
    assert.equal(info.serialNumber, 'SN-7');
    // Issued certificates are backdated a minute; X.509 times have whole seconds.
    assert.equal(info.notAfterMs - info.notBeforeMs, 3 * DAY_MS + 60_000);
  });

  it('only a server-side failure is worth retrying', () => {
    const retryable = provisionRefusalCodes.filter((code) => isRetryableRefusal(code));
    assert.deepEqual(retryable, ['internal_error']);
  });

  it('makes a P-256 CSR naming the serial in CN and serialNumber', async () => {
    const { csrPem } = await createKeyAndCsr('SN-42');
    const parsed = await parseDeviceCsr(csrPem);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.csr.subject, { commonName: 'SN-42', serialNumber: 'SN-42' });
  });
});

describe('renewal exchange', () => {
  let current: KeyPairPem;
  let next: KeyPairPem;
  let other: KeyPairPem;
  const HOUR = 60 * 60 * 1000;

  before(async () => {
    const ca = await loadSigningCa(await createSelfSignedCa('CA', 10, Date.now()));
    const now = Date.now();
    current = await issueDeviceCert(ca, { deviceId: 'dev-1', serial: 'SN-1', validityDays: 3 }, now);
    next = await issueDeviceCert(ca, { deviceId: 'dev-1', serial: 'SN-1', validityDays: 3 }, now);
    other = await issueDeviceCert(ca, { deviceId: 'dev-2', serial: 'SN-2', validityDays: 3 }, now);
  });

  function setup(options: Partial<RenewalOptions> = {}) {
    let nowMs = Date.now();
    const timers = manualTimers();
    const published: Array<{ topic: string; payload: string }> = [];
    const switched: Array<{ certPem: string; keyPem: string }> = [];
    const renewed: RenewedCertificate[] = [];
    const serials: string[] = [];
    const warnings: string[] = [];
    const errors: string[] = [];
    const noop = () => undefined;
    const logger: AgentLogger = {
      debug: noop,
      info: noop,
      warn: (_o, msg) => warnings.push(msg),
      error: (_o, msg) => errors.push(msg),
    };
    const host: RenewalHost = {
      deviceId: 'dev-1',
      certPem: () => current.certPem,
      ready: () => true,
      publish: (topic, payload) => {
        published.push({ topic, payload });
        return Promise.resolve();
      },
      switchTo: (pair) => switched.push(pair),
    };
    const renewal = createRenewal(
      { clock: { now: () => nowMs }, timers, random: () => 0.5, logger },
      {
        checkIntervalMs: HOUR,
        csr: (serial) => {
          serials.push(serial);
          return Promise.resolve({
            csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nX\n-----END CERTIFICATE REQUEST-----\n',
            keyPem: next.keyPem,
          });
        },
        onRenewed: (certificate) => {
          renewed.push(certificate);
        },
        ...options,
      },
      host,
    );
    renewal.start();
    const answer = (response: ProvisionResponse) =>
      renewal.handleIssued(Buffer.from(JSON.stringify(response)));
    const accepted = (certificatePem: string): ProvisionResponse => ({
      status: 'accepted',
      deviceId: 'dev-1',
      certificatePem,
      caChainPem: 'CHAIN',
      mqttUrl: 'mqtts://fleet:8883',
    });
    return {
      renewal,
      timers,
      published,
      switched,
      renewed,
      serials,
      warnings,
      errors,
      answer,
      accepted,
      advance: (ms: number) => (nowMs += ms),
    };
  }

  it('does nothing while the certificate is young', async () => {
    const t = setup();
    t.renewal.check();
    await flush();
    assert.deepEqual(t.published, []);
  });

  it('when due, sends a CSR for the serial, checks the answer, stores it, then switches', async () => {
    const t = setup();
    t.advance(49 * HOUR); // past 2/3 of three days
    t.renewal.check();
    await flush();
    assert.equal(t.published.length, 1);
    assert.equal(t.published[0]?.topic, 'fl/d/dev-1/certificate/renew');
    renewRequestSchema.parse(JSON.parse(t.published[0]?.payload ?? ''));
    assert.deepEqual(t.serials, ['SN-1'], 'the CSR names the serial from the certificate');
    t.renewal.check(); // one renewal at a time
    await flush();
    assert.equal(t.published.length, 1);

    t.answer(t.accepted(next.certPem));
    await flush();
    assert.equal(t.renewed[0]?.certPem, next.certPem);
    assert.deepEqual(t.switched, [{ certPem: next.certPem, keyPem: next.keyPem }]);
  });

  it('ignores invalid answers and refuses certificates for another key or device', async () => {
    const t = setup();
    t.advance(49 * HOUR);
    t.renewal.check();
    await flush();
    t.renewal.handleIssued(Buffer.from('{"status":"accepted"}'));
    assert.deepEqual(t.warnings, ['ignoring invalid message from server']);
    t.answer(t.accepted(other.certPem));
    await flush();
    assert.deepEqual(t.switched, []);
    assert.equal(t.renewed.length, 0);
    assert.equal(t.warnings.at(-1), 'certificate renewal failed; will retry');
  });

  it('retries a server error or a lost answer, but not before the check interval', async () => {
    const t = setup();
    t.advance(49 * HOUR);
    t.renewal.check();
    await flush();
    t.answer({ status: 'rejected', code: 'internal_error', message: 'try later' });
    await flush();
    t.renewal.check();
    await flush();
    assert.equal(t.published.length, 1, 'no second attempt within the interval');
    t.advance(HOUR);
    t.renewal.check();
    await flush();
    assert.equal(t.published.length, 2);
    t.timers.fire(); // no answer in time
    await flush();
    t.advance(HOUR);
    t.renewal.check();
    await flush();
    assert.equal(t.published.length, 3);
    t.answer(t.accepted(next.certPem));
    await flush();
    assert.equal(t.switched.length, 1);
  });

  it('stops renewing this certificate after a permanent refusal', async () => {
    const t = setup();
    t.advance(49 * HOUR);
    t.renewal.check();
    await flush();
    t.answer({ status: 'rejected', code: 'csr_subject_mismatch', message: 'no' });
    await flush();
    assert.deepEqual(t.errors, ['certificate renewal refused; not retrying with this certificate']);
    t.advance(10 * HOUR);
    t.renewal.check();
    await flush();
    assert.equal(t.published.length, 1);
  });

  it('keeps the old certificate when storing the new one fails', async () => {
    const t = setup({
      onRenewed: () => Promise.reject(new Error('disk full')),
    });
    t.advance(49 * HOUR);
    t.renewal.check();
    await flush();
    t.answer(t.accepted(next.certPem));
    await flush();
    assert.deepEqual(t.switched, []);
    assert.equal(t.warnings.at(-1), 'certificate renewal failed; will retry');
  });

  it('drops a pending exchange on stop', async () => {
    const t = setup();
    t.advance(49 * HOUR);
    t.renewal.check();
    await flush();
    t.renewal.stop();
    await flush();
    t.answer(t.accepted(next.certPem));
    await flush();
    assert.deepEqual(t.switched, []);
  });
});
