import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../../src/ota/delivery/http-range.ts';

describe('HTTP Range parsing (RFC 9110 §14)', () => {
  it('serves single ranges, open-ended ranges and suffixes', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 });
    assert.deepEqual(parseRange('bytes=990-2000', 1000), { kind: 'partial', start: 990, end: 999 });
  });

  it('answers the whole file for no, malformed or multiple ranges, and 416 beyond the end', () => {
    for (const header of [undefined, 'bytes=', 'items=0-1', 'bytes=0-1,5-9', 'bytes=9-3', 'bytes=a-b']) {
      assert.deepEqual(parseRange(header, 1000), { kind: 'full' }, String(header));
    }
    assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
  });
});
