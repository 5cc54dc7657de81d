import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromCertificate } from '../../src/gateway/device-identity.ts';

describe('device identity from the client certificate', () => {
  it('takes the device id from the CN and the serial from serialNumber', () => {
    const result = identityFromCertificate(
      { subject: { CN: 'dev-1', serialNumber: 'SN-9' }, serialNumber: 'AB', fingerprint256: 'FF' },
      'dev-1',
    );
    assert.deepEqual(result, {
      ok: true,
      identity: { deviceId: 'dev-1', serial: 'SN-9', certificateSerial: 'AB', fingerprint256: 'FF' },
    });
  });

  it('refuses a client id that differs from the CN (session takeover)', () => {
    const result = identityFromCertificate({ subject: { CN: 'dev-1' } }, 'dev-2');
    assert.equal(result.ok, false);
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
});
