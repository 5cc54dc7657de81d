import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromCertificate, identityFromToken } from '../../src/gateway/session-identity.ts';

describe('session identity', () => {
  it('takes the device id from the CN and the serial from serialNumber', () => {
    const result = identityFromCertificate(
      { subject: { CN: 'dev-1', serialNumber: 'SN-9' }, serialNumber: 'AB', fingerprint256: 'FF' },
      'dev-1',
    );
    assert.deepEqual(result, {
      ok: true,
      identity: {
        kind: 'device',
        device: {
          deviceId: 'dev-1',
          serial: 'SN-9',
          auth: 'certificate',
          certificateSerial: 'AB',
          fingerprint256: 'FF',
        },
      },
    });
  });

  it('refuses a client id that differs from the CN (session takeover)', () => {
    assert.equal(identityFromCertificate({ subject: { CN: 'dev-1' } }, 'dev-2').ok, false);
  });

  it('refuses a missing, repeated or unsafe CN', () => {
    for (const subject of [{}, { CN: ['a', 'b'] }, { CN: 'a/b' }, { CN: '+' }, { CN: '#' }, { CN: '' }]) {
      assert.equal(
        identityFromCertificate({ subject }, String(subject.CN ?? '')).ok,
        false,
        JSON.stringify(subject),
      );
    }
  });

  it('recognises a claim certificate by its OU and takes the serial from the client id', () => {
    const result = identityFromCertificate(
      { subject: { CN: 'claim-b-abc123', OU: 'flotilla-claim' }, serialNumber: '01' },
      'SN-77',
    );
    assert.deepEqual(result, {
      ok: true,
      identity: { kind: 'claim', claim: { batchId: 'b-abc123', serial: 'SN-77', certificateSerial: '01' } },
    });
    assert.equal(
      identityFromCertificate({ subject: { CN: 'dev-1', OU: 'flotilla-claim' } }, 'SN-77').ok,
      false,
    );
    assert.equal(
      identityFromCertificate({ subject: { CN: 'claim-b-abc123', OU: 'flotilla-claim' } }, 'fl/d/#').ok,
      false,
    );
  });

  it('builds token identities only when username and client id agree', () => {
    assert.equal(identityFromToken('dev-1', 'dev-1', 'SN1').ok, true);
    assert.equal(identityFromToken('dev-1', 'dev-2', 'SN1').ok, false);
    assert.equal(identityFromToken('../x', '../x', 'SN1').ok, false);
  });
});
