/**
 * Zero-touch provisioning, the device's side: make a key pair on the device, send a CSR with the
 * batch's claim credential (over MQTT or HTTPS), and return the identity the server issued.
 * Server failures and lost connections are retried with jittered exponential backoff; a refusal
 * that retrying cannot change stops with a ProvisioningRefusedError naming the reason.
 */
import type { ProvisionRequest, ProvisionResponse } from '../contracts/provisioning-messages.ts';
import { nextDelayMs, type BackoffPolicy } from './backoff.ts';
import { createKeyAndCsr } from './csr.ts';
import { parseProvisionResponse } from './inbound.ts';
import { checkIssuedCertificate } from './issued-certificate.ts';
import { exchangeOverHttps } from './provision-https.ts';
import { exchangeOverMqtt } from './provision-mqtt.ts';
import {
  isRetryableRefusal,
  ProvisioningRefusedError,
  ProvisioningTransportError,
} from './provisioning-errors.ts';
import { AGENT_DEFAULTS, type AgentDeps } from './types.ts';

/** Default bound on one exchange (connect + answer), in milliseconds. */
const DEFAULT_TIMEOUT_MS = 30_000;

export type ProvisioningEndpoint =
  | { transport: 'mqtt'; /** `mqtts://host:port` of the gateway. */ mqttUrl: string }
  | { transport: 'https'; /** `https://host:port` of the device HTTPS API. */ httpsUrl: string };

export type ProvisionOptions = ProvisioningEndpoint & {
  serial: string;
  /** The batch's claim certificate (with its issuing CA) and key, PEM. */
  claim: { certPem: string; keyPem: string };
  /** The CA chain that signed the server's certificate, PEM. */
  caChainPem: string;
  /** Bound on one attempt, in milliseconds; default 30 s. */
  timeoutMs?: number;
  /** Retry backoff; defaults initialMs 1000, maxMs 60000 (the agent's). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Stops retrying; provisionDevice then rejects with the signal's reason. */
  signal?: AbortSignal;
};

/** What a provisioned device keeps: its id, certificate and key, whom to trust and where to connect. */
export interface ProvisionedIdentity {
  deviceId: string;
  /** Device certificate followed by the issuing CA. */
  certPem: string;
  /** PKCS#8; generated on this device. */
  keyPem: string;
  /** Issuing CA then root: what the device trusts for the server. */
  caChainPem: string;
  /** ISO 8601 expiry of the certificate. */
  notAfter: string;
  /** Where the device connects from now on. */
  mqttUrl: string;
}

type Outcome = { kind: 'answer'; response: ProvisionResponse } | { kind: 'retry'; reason: string };

export async function provisionDevice(
  deps: AgentDeps,
  options: ProvisionOptions,
): Promise<ProvisionedIdentity> {
  const { logger, timers } = deps;
  const { serial, signal } = options;
  const backoff: BackoffPolicy = {
    initialMs: options.backoff?.initialMs ?? AGENT_DEFAULTS.backoff.initialMs,
    maxMs: options.backoff?.maxMs ?? AGENT_DEFAULTS.backoff.maxMs,
    random: deps.random,
  };
  // One key for every attempt: a retried request is the same request.
  const { keyPem, csrPem } = await createKeyAndCsr(serial);
  const request: ProvisionRequest = { serial, credential: 'certificate', csrPem };
  for (let attempt = 0; ; attempt += 1) {
    signal?.throwIfAborted();
    logger.info({ serial, transport: options.transport, attempt }, 'provisioning');
    const outcome = await exchange(deps, options, request);
    if (outcome.kind === 'answer') {
      const { response } = outcome;
      if (response.status === 'accepted') {
        const issued = checkIssuedCertificate(response, keyPem);
        logger.info({ serial, deviceId: issued.deviceId, notAfter: issued.notAfter }, 'provisioned');
        return { ...issued, keyPem, caChainPem: response.caChainPem, mqttUrl: response.mqttUrl };
      }
      if (!isRetryableRefusal(response.code)) {
        logger.error({ serial, code: response.code, reason: response.message }, 'provisioning refused');
        throw new ProvisioningRefusedError(response.code, response.message, serial);
      }
    }
    signal?.throwIfAborted();
    const retryInMs = nextDelayMs(attempt, backoff);
    const reason = outcome.kind === 'retry' ? outcome.reason : describe(outcome.response);
    logger.warn({ serial, reason, retryInMs, attempt }, 'provisioning failed; retrying');
    await sleep(retryInMs, timers, signal);
  }
}

/** One attempt; every failure that a later attempt might not have becomes `retry`. */
async function exchange(
  deps: AgentDeps,
  options: ProvisionOptions,
  request: ProvisionRequest,
): Promise<Outcome> {
  const session = {
    claim: options.claim,
    caChainPem: options.caChainPem,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    timers: deps.timers,
    signal: options.signal,
  };
  let text: string;
  try {
    if (options.transport === 'mqtt') {
      text = await exchangeOverMqtt({ ...session, serial: options.serial, url: options.mqttUrl }, request);
    } else {
      text = (await exchangeOverHttps({ ...session, url: options.httpsUrl }, request)).text;
    }
  } catch (error) {
    if (error instanceof ProvisioningTransportError) return { kind: 'retry', reason: error.message };
    throw error;
  }
  // The HTTP status only repeats what the body says; the body is the answer.
  const parsed = parseProvisionResponse(text);
  if (!parsed.ok) return { kind: 'retry', reason: `invalid response from server: ${parsed.reason}` };
  return { kind: 'answer', response: parsed.value };
}

function describe(response: ProvisionResponse): string {
  return response.status === 'rejected' ? `${response.code}: ${response.message}` : response.status;
}

function sleep(ms: number, timers: AgentDeps['timers'], signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      timers.clearTimeout(handle);
      if (signal) reject(abortReason(signal));
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
