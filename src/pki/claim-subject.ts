/**
 * Claim certificates are shared by a factory batch and only let a device ask to be provisioned.
 * The gateway tells them from device certificates by the subject: OU = flotilla-claim and
 * CN = claim-<batchId>. Pure; reads the subject as Node's TLS PeerCertificate gives it.
 */

export const CLAIM_OU = 'flotilla-claim';
const CLAIM_CN = /^claim-([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;

export type SubjectLike = Record<string, string | string[] | undefined>;

export function claimCommonName(batchId: string): string {
  const cn = `claim-${batchId}`;
  if (!CLAIM_CN.test(cn)) throw new RangeError(`batch id ${JSON.stringify(batchId)} is not usable in a CN`);
  return cn;
}

/** The batch id in a claim certificate's CN, or undefined when the CN is not a claim CN. */
export function claimBatchId(commonName: string): string | undefined {
  return CLAIM_CN.exec(commonName)?.[1];
}

/** True when the subject has exactly one OU, flotilla-claim, and exactly one claim CN. */
export function isClaimSubject(subject: SubjectLike): boolean {
  const ou = subject['OU'];
  const cn = subject['CN'];
  return ou === CLAIM_OU && typeof cn === 'string' && claimBatchId(cn) !== undefined;
}
