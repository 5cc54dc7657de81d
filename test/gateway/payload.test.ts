import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeviceMessage } from '../../src/gateway/payload.ts';
import { MAX_PAYLOAD_BYTES } from '../../src/contracts/topics.ts';

const report = {
  seq: 1,
  firmwareVersion: '1.2.3',
  hardware: { model: 'tracker-2', revision: 'B' },
  serial: 'SN1',
  uptimeS: 10,
};

describe('device payload decoding', () => {
  it('decodes a valid state report', () => {
    const result = decodeDeviceMessage('state/reported', Buffer.from(JSON.stringify(report)));
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.message, { suffix: 'state/reported', payload: report });
  });

  it('refuses non-JSON, wrong types, unknown fields and oversize payloads with a reason', () => {
    const cases: Array<[Buffer, string, RegExp]> = [
      [Buffer.from('{not json'), 'malformed_payload', /not JSON/],
      [Buffer.from(JSON.stringify({ ...report, seq: -1 })), 'malformed_payload', /seq/],
      [Buffer.from(JSON.stringify({ ...report, extra: 1 })), 'malformed_payload', /extra/],
      [Buffer.from(JSON.stringify({ uptimeS: 'x' })), 'malformed_payload', /uptimeS/],
      [Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), 'payload_too_large', /limit/],
      [Buffer.from([0xff, 0xfe, 0x00]), 'malformed_payload', /not JSON/],
    ];
    for (const [payload, code, message] of cases) {
      const suffix =
        payload.toString().includes('uptimeS') && !payload.toString().includes('seq')
          ? 'heartbeat'
          : 'state/reported';
      const result = decodeDeviceMessage(suffix, payload);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.code, code);
        assert.match(result.message, message);
      }
    }
  });

  it('decodes an update status and refuses one whose reason does not match its state', () => {
    const status = {
      deploymentId: 'dep-1',
      version: '2.4.1',
      state: 'failed',
      seq: 3,
      reason: 'hash_mismatch',
    };
    const ok = decodeDeviceMessage('update/status', Buffer.from(JSON.stringify(status)));
    assert.deepEqual(ok.ok && ok.message, { suffix: 'update/status', payload: status });
    const noReason = decodeDeviceMessage(
      'update/status',
      Buffer.from(JSON.stringify({ ...status, reason: undefined })),
    );
    assert.equal(noReason.ok, false);
    assert.match(!noReason.ok ? noReason.message : '', /reason/);
    const extra = decodeDeviceMessage(
      'update/status',
      Buffer.from(JSON.stringify({ ...status, sha256: 'x' })),
    );
    assert.equal(extra.ok, false);
  });
});
