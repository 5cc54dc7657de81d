/**
 * MQTT CONNECT authentication on a TLS socket: a verified client certificate (device or claim),
 * or, without a certificate, username = device id and password = device token. Revoked
 * identities are refused here, so revocation takes effect on the next connect as well as at once.
 */
import type { TLSSocket } from 'node:tls';
import { identityFromCertificate, identityFromToken, type IdentityResult } from '../session-identity.ts';
import type { CredentialChecks } from '../types.ts';

export type AuthResult = IdentityResult & {
  metric?: 'tls' | 'certificate' | 'identity' | 'token' | 'revoked';
};

export async function authenticateSession(
  socket: TLSSocket,
  clientId: string,
  username: string | undefined,
  password: Buffer | undefined,
  credentials: CredentialChecks,
): Promise<AuthResult> {
  const presented = socket.getPeerCertificate();
  const hasCertificate = presented !== null && Object.keys(presented).length > 0;
  let result: IdentityResult;
  if (hasCertificate) {
    if (!socket.authorized) {
      // Expired, not yet valid, or from another CA: Node's verification said why.
      const why =
        socket.authorizationError instanceof Error
          ? socket.authorizationError.message
          : String(socket.authorizationError);
      return { ok: false, reason: `client certificate not accepted: ${why}`, metric: 'certificate' };
    }
    result = identityFromCertificate(presented, clientId);
    if (!result.ok) return { ...result, metric: 'identity' };
  } else {
    if (username === undefined || password === undefined) {
      return { ok: false, reason: 'no client certificate and no username/token', metric: 'tls' };
    }
    const verified = await credentials.verifyToken(username, password.toString('utf8'));
    if (!verified)
      return {
        ok: false,
        reason: `invalid or revoked token for ${JSON.stringify(username)}`,
        metric: 'token',
      };
    result = identityFromToken(username, clientId, verified.serial);
    if (!result.ok) return { ...result, metric: 'identity' };
  }
  const refusal = credentials.refusal(result.identity);
  if (refusal !== undefined) return { ok: false, reason: refusal, metric: 'revoked' };
  return result;
}
