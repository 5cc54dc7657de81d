/** Turns agent options into mqtt.js connect options. Pure; the agent owns the socket. */
import { isIP } from 'node:net';
import type { IClientOptions } from 'mqtt';
import type { AgentOptions } from './types.ts';

export interface ServerAddress {
  host: string;
  port: number;
}

/** Parses `mqtts://host[:port]`. Only TLS is accepted: devices authenticate by certificate. */
export function parseServerUrl(serverUrl: string): ServerAddress {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new Error(`serverUrl ${JSON.stringify(serverUrl)} is not a URL (expected mqtts://host:port)`);
  }
  if (url.protocol !== 'mqtts:') {
    throw new Error(`serverUrl must use mqtts:// (TLS with a client certificate), got ${url.protocol}//`);
  }
  if (url.hostname === '') throw new Error(`serverUrl ${JSON.stringify(serverUrl)} has no host`);
  // URL keeps the brackets of an IPv6 literal ("[::1]"); sockets want the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port === '' ? 8883 : Number(url.port) };
}

export function buildConnectOptions(options: AgentOptions, keepaliveS: number): IClientOptions {
  return mqttTlsOptions({ url: options.serverUrl, clientId: options.deviceId, tls: options.tls, keepaliveS });
}

/** MQTT 3.1.1 over TLS with a client certificate, verified against `tls.caPem` only. */
export function mqttTlsOptions(params: {
  url: string;
  clientId: string;
  tls: { caPem: string; certPem: string; keyPem: string };
  keepaliveS: number;
}): IClientOptions {
  const { host, port } = parseServerUrl(params.url);
  const connectOptions: IClientOptions = {
    protocol: 'mqtts',
    host,
    port,
    clientId: params.clientId,
    // MQTT 3.1.1, so the agent also works against brokers without v5.
    protocolVersion: 4,
    clean: true,
    keepalive: params.keepaliveS,
    // The agent owns reconnection (backoff with jitter); mqtt.js must not retry on its own.
    reconnectPeriod: 0,
    ca: params.tls.caPem,
    cert: params.tls.certPem,
    key: params.tls.keyPem,
    rejectUnauthorized: true,
  };
  // SNI only for names: RFC 6066 section 3 forbids IP literals in server_name.
  if (isIP(host) === 0) connectOptions.servername = host;
  return connectOptions;
}
