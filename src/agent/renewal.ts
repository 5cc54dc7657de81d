/**
 * Certificate renewal over the device's own session (protocol: provisioning-messages.ts). Once
 * `atFraction` of the certificate's lifetime has passed, a fresh key and CSR are made on the
 * device and sent as a RenewRequest to `fl/d/{id}/certificate/renew`; the ProvisionResponse comes
 * back on `fl/d/{id}/certificate/issued`. An accepted certificate is checked, handed to
 * `onRenewed` (to be stored) and then to the agent, which reconnects with it. The old certificate
 * stays valid until it expires, so a failed attempt is simply tried again at a later check.
 */
import type { ProvisionResponse, RenewRequest } from '../contracts/provisioning-messages.ts';
import { deviceTopic } from '../contracts/topics.ts';
import { ValidationError } from '../infra/errors.ts';
import { certificateSerial, readCertificateInfo, type CertificateInfo } from './certificate-info.ts';
import { createKeyAndCsr } from './csr.ts';
import { parseProvisionResponse } from './inbound.ts';
import { checkIssuedCertificate } from './issued-certificate.ts';
import { isRetryableRefusal } from './provisioning-errors.ts';
import { AGENT_DEFAULTS, type AgentDeps, type RenewalOptions } from './types.ts';

/** When a certificate is due: `atFraction` of the way from notBefore to notAfter, in epoch ms. Pure. */
export function renewalDueAtMs(
  validity: Pick<CertificateInfo, 'notBeforeMs' | 'notAfterMs'>,
  atFraction: number,
): number {
  return validity.notBeforeMs + (validity.notAfterMs - validity.notBeforeMs) * atFraction;
}

/** What renewal needs from the agent. */
export interface RenewalHost {
  deviceId: string;
  /** The certificate in use now. */
  certPem(): string;
  /** True while a session is up and not being replaced. */
  ready(): boolean;
  /** Publishes with QoS 1 on the live session; resolves on PUBACK. */
  publish(topic: string, payload: string): Promise<void>;
  /** Reconnects with the new pair, replacing the live session. */
  switchTo(pair: { certPem: string; keyPem: string }): void;
}

export interface Renewal {
  readonly issuedTopic: string;
  readonly checkIntervalMs: number;
  /** Allows renewals (again, after stop). */
  start(): void;
  /** Starts a renewal when one is due and none is running. Never throws. */
  check(): void;
  /** A message that arrived on `issuedTopic`. */
  handleIssued(payload: Uint8Array): void;
  /** Abandons a pending exchange; nothing is switched afterwards. */
  stop(): void;
}

export function createRenewal(deps: AgentDeps, options: RenewalOptions, host: RenewalHost): Renewal {
  const { clock, timers, logger } = deps;
  const { deviceId } = host;
  const defaults = AGENT_DEFAULTS.renewal;
  const atFraction = options.atFraction ?? defaults.atFraction;
  if (!(atFraction > 0 && atFraction < 1))
    throw new ValidationError(`renewal.atFraction must be between 0 and 1, got ${atFraction}`);
  const checkIntervalMs = options.checkIntervalMs ?? defaults.checkIntervalMs;
  const responseTimeoutMs = options.responseTimeoutMs ?? defaults.responseTimeoutMs;
  const makeCsr = options.csr ?? createKeyAndCsr;
  const renewTopic = deviceTopic(deviceId, 'certificate/renew');
  const issuedTopic = deviceTopic(deviceId, 'certificate/issued');

  let running = false;
  let stopped = true;
  /** Attempts are at least checkIntervalMs apart, so a skewed clock cannot make renewal loop. */
  let nextAttemptAtMs = Number.NEGATIVE_INFINITY;
  /** The certificate a permanent refusal was for: not retried with it. */
  let refusedFor: string | undefined;
  let pending: ((answer: ProvisionResponse | Error) => void) | undefined;

  function check(): void {
    if (running || stopped || !host.ready()) return;
    const nowMs = clock.now();
    const certPem = host.certPem();
    if (nowMs < nextAttemptAtMs || certPem === refusedFor) return;
    let current: CertificateInfo;
    try {
      current = readCertificateInfo(certPem);
    } catch {
      return; // the TLS stack accepted it, so this cannot happen; nothing to renew from anyway
    }
    if (nowMs < renewalDueAtMs(current, atFraction)) return;
    running = true;
    nextAttemptAtMs = nowMs + checkIntervalMs;
    void renew(certPem, current).finally(() => (running = false));
  }

  async function renew(certPem: string, current: CertificateInfo): Promise<void> {
    const notAfter = new Date(current.notAfterMs).toISOString();
    logger.info({ deviceId, notAfter }, 'renewing certificate');
    try {
      const { csrPem, keyPem } = await makeCsr(certificateSerial(current) ?? deviceId);
      const response = await exchange({ csrPem });
      if (response.status === 'rejected') {
        if (isRetryableRefusal(response.code)) throw new Error(`${response.code}: ${response.message}`);
        refusedFor = certPem;
        logger.error(
          { deviceId, code: response.code, reason: response.message, notAfter },
          'certificate renewal refused; not retrying with this certificate',
        );
        return;
      }
      const issued = checkIssuedCertificate(response, keyPem, deviceId);
      await options.onRenewed?.({ certPem: issued.certPem, keyPem, notAfter: issued.notAfter });
      if (stopped) return;
      host.switchTo({ certPem: issued.certPem, keyPem });
      logger.info({ deviceId, notAfter: issued.notAfter }, 'certificate renewed');
      if (clock.now() >= renewalDueAtMs(readCertificateInfo(issued.certPem), atFraction)) {
        logger.warn(
          { deviceId, notAfter: issued.notAfter },
          'renewed certificate is already due: device clock ahead?',
        );
      }
    } catch (error) {
      const err = error instanceof Error ? error.message : String(error);
      logger.warn({ deviceId, err, retryInMs: checkIntervalMs }, 'certificate renewal failed; will retry');
    }
  }

  function exchange(request: RenewRequest): Promise<ProvisionResponse> {
    return new Promise<ProvisionResponse>((resolve, reject) => {
      const settle = (answer: ProvisionResponse | Error) => {
        timers.clearTimeout(timer);
        pending = undefined;
        if (answer instanceof Error) reject(answer);
        else resolve(answer);
      };
      const timer = timers.setTimeout(
        () => settle(new Error(`no answer on ${issuedTopic} within ${responseTimeoutMs} ms`)),
        responseTimeoutMs,
      );
      pending = settle;
      host
        .publish(renewTopic, JSON.stringify(request))
        .catch((err: unknown) => settle(err instanceof Error ? err : new Error(String(err))));
    });
  }

  return {
    issuedTopic,
    checkIntervalMs,
    start() {
      stopped = false;
    },
    check,
    handleIssued(payload) {
      const parsed = parseProvisionResponse(payload);
      if (!parsed.ok) {
        logger.warn(
          { deviceId, topic: issuedTopic, reason: parsed.reason },
          'ignoring invalid message from server',
        );
        return;
      }
      if (pending) pending(parsed.value);
      else logger.debug({ deviceId }, 'certificate/issued without a pending renewal; ignored');
    },
    stop() {
      stopped = true;
      pending?.(new Error('agent stopped'));
    },
  };
}
