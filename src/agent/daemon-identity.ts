/**
 * The daemon's identity at start, in this order: the state dir (provisioned or renewed before),
 * the config's factory certificate files, or zero-touch provisioning with the claim credential,
 * whose result is stored in the state dir before it is used.
 */
import { ConfigError } from '../infra/errors.ts';
import { readCertificateInfo } from './certificate-info.ts';
import { configPath, readConfigPem, type AgentConfig, type IdentitySource } from './config.ts';
import { parseServerUrl } from './connect-options.ts';
import { loadStoredIdentity, saveIdentity, type StoredIdentity } from './identity-store.ts';
import { provisionDevice, type ProvisioningEndpoint } from './provisioning.ts';
import { ProvisioningRefusedError } from './provisioning-errors.ts';
import type { AgentDeps, AgentOptions } from './types.ts';

export interface DaemonIdentity {
  deviceId: string;
  serverUrl: string;
  tls: AgentOptions['tls'];
  /** Where it came from, for the start-up log. */
  source: 'state-dir' | 'config-files' | 'provisioned';
}

type Deps = AgentDeps & { signal?: AbortSignal };

export async function resolveDaemonIdentity(
  config: AgentConfig,
  configFile: string,
  deps: Deps,
): Promise<DaemonIdentity> {
  const stateDir = config.stateDir === undefined ? undefined : configPath(configFile, config.stateDir);
  const stored = stateDir === undefined ? undefined : await loadStoredIdentity(stateDir, deps.logger);
  const { identity } = config;
  switch (identity.kind) {
    case 'certificate':
      return factoryIdentity(identity, configFile, stored, deps);
    case 'provisioning':
      if (stateDir === undefined) throw new ConfigError('stateDir: is required with provisioning');
      if (stored) return storedIdentity(config, identity, configFile, stored, stateDir);
      return provisionedIdentity(config, identity, configFile, stateDir, deps);
  }
}

/** The factory certificate, or a renewed one in the state dir when that expires later. */
async function factoryIdentity(
  identity: Extract<IdentitySource, { kind: 'certificate' }>,
  configFile: string,
  stored: StoredIdentity | undefined,
  deps: Deps,
): Promise<DaemonIdentity> {
  const { deviceId, serverUrl } = identity;
  const caPem = await readConfigPem(configFile, 'caFile', identity.caFile);
  const certPem = await readConfigPem(configFile, 'certFile', identity.certFile);
  const keyPem = await readConfigPem(configFile, 'keyFile', identity.keyFile);
  if (stored && stored.deviceId !== deviceId) {
    deps.logger.warn({ deviceId, stored: stored.deviceId }, 'state dir holds another device; using certFile');
  } else if (stored && expiresLater(stored.certPem, certPem)) {
    return {
      deviceId,
      serverUrl,
      tls: { caPem, certPem: stored.certPem, keyPem: stored.keyPem },
      source: 'state-dir',
    };
  }
  return { deviceId, serverUrl, tls: { caPem, certPem, keyPem }, source: 'config-files' };
}

async function storedIdentity(
  config: AgentConfig,
  identity: Extract<IdentitySource, { kind: 'provisioning' }>,
  configFile: string,
  stored: StoredIdentity,
  stateDir: string,
): Promise<DaemonIdentity> {
  if (stored.deviceId !== identity.serial) {
    throw new ConfigError(
      `stateDir: ${stateDir} holds the identity of ${stored.deviceId}, not of serial ${identity.serial}`,
    );
  }
  const caPem =
    stored.caChainPem ?? (await readConfigPem(configFile, 'provisioning.caChainFile', identity.caChainFile));
  return {
    deviceId: stored.deviceId,
    serverUrl: serverUrlFor(config, identity, stored.mqttUrl),
    tls: { caPem, certPem: stored.certPem, keyPem: stored.keyPem },
    source: 'state-dir',
  };
}

async function provisionedIdentity(
  config: AgentConfig,
  identity: Extract<IdentitySource, { kind: 'provisioning' }>,
  configFile: string,
  stateDir: string,
  deps: Deps,
): Promise<DaemonIdentity> {
  const read = (field: 'claimCertFile' | 'claimKeyFile' | 'caChainFile') =>
    readConfigPem(configFile, `provisioning.${field}`, identity[field]);
  const claim = { certPem: await read('claimCertFile'), keyPem: await read('claimKeyFile') };
  const endpoint: ProvisioningEndpoint = identity.url.startsWith('https://')
    ? { transport: 'https', httpsUrl: identity.url }
    : { transport: 'mqtt', mqttUrl: identity.url };
  let provisioned;
  try {
    provisioned = await provisionDevice(deps, {
      ...endpoint,
      serial: identity.serial,
      claim,
      caChainPem: await read('caChainFile'),
      backoff: config.backoff,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } catch (error) {
    if (error instanceof ProvisioningRefusedError && error.code === 'already_provisioned') {
      // The server issues a serial's first identity once; this device has lost (or never stored) it.
      throw new ProvisioningRefusedError(
        error.code,
        error.serverMessage,
        error.serial,
        `No identity is stored in ${stateDir}: an operator has to reset this device on the server before it can provision again`,
      );
    }
    throw error;
  }
  // Stored before use: a device never runs on an identity it would not find after a reboot.
  await saveIdentity(stateDir, provisioned);
  return {
    deviceId: provisioned.deviceId,
    serverUrl: serverUrlFor(config, identity, provisioned.mqttUrl),
    tls: { caPem: provisioned.caChainPem, certPem: provisioned.certPem, keyPem: provisioned.keyPem },
    source: 'provisioned',
  };
}

/** The config's serverUrl, else the one the server named, else the provisioning URL if it is MQTT. */
function serverUrlFor(
  config: AgentConfig,
  identity: Extract<IdentitySource, { kind: 'provisioning' }>,
  fromServer: string | undefined,
): string {
  const candidates = [config.serverUrl, fromServer, identity.url];
  const usable = candidates.find((url) => url !== undefined && isMqttsUrl(url));
  if (usable === undefined) {
    throw new ConfigError(
      `serverUrl: is required (the server named no usable MQTT address: ${String(fromServer)})`,
    );
  }
  return usable;
}

function isMqttsUrl(url: string): boolean {
  try {
    parseServerUrl(url);
    return true;
  } catch {
    return false;
  }
}

function expiresLater(candidatePem: string, currentPem: string): boolean {
  try {
    return readCertificateInfo(candidatePem).notAfterMs >= readCertificateInfo(currentPem).notAfterMs;
  } catch {
    return false;
  }
}
