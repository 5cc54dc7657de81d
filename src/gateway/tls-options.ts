/**
 * TLS settings of every device-facing listener (MQTT and HTTPS). A client certificate is asked
 * for and verified against the fleet chain, but not required by the handshake: the listener
 * decides per request, so a refused device gets a reason (CONNACK 5 / JSON) and a device without
 * a certificate can still log in with a token.
 */
import type { TlsOptions } from 'node:tls';

export interface DeviceTlsMaterial {
  /** Trust anchors for client certificates: the fleet chain (issuing CA and root). */
  caPem: string;
  /** Server certificate followed by the issuing CA. */
  certPem: string;
  keyPem: string;
}

export function deviceTlsOptions(tls: DeviceTlsMaterial): TlsOptions {
  return {
    ca: tls.caPem,
    cert: tls.certPem,
    key: tls.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}
