/** The BSDIFF40 header parser: offtin sign-magnitude integers and refusal reasons. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { offtin, offtout, parseBsdiffHeader } from '../../src/ota/delta/bsdiff-format.ts';

const BZ_EMPTY = Buffer.from('425a683917724538509000000000', 'hex'); // `bzip2 < /dev/null`, 14 bytes

function patchOf(ctrl: Buffer, diff: Buffer, extra: Buffer, newBytes: number, magic = 'BSDIFF40'): Buffer {
  const lengths = [ctrl.length, diff.length, newBytes].map((n) => Buffer.from(offtout(n)));
  return Buffer.concat([Buffer.from(magic, 'latin1'), ...lengths, ctrl, diff, extra]);
}

const limits = (patch: Buffer, maxNewBytes = 1 << 20): { patchBytes: number; maxNewBytes: number } => ({
  patchBytes: patch.length,
  maxNewBytes,
});

describe('offtin', () => {
  it('decodes sign-magnitude little-endian, not two’s complement', () => {
    assert.equal(offtin(Buffer.from('4a00000000000000', 'hex'), 0), 74);
    assert.equal(offtin(Buffer.from('0500000000000080', 'hex'), 0), -5);
    assert.equal(offtin(Buffer.from('0000000000000080', 'hex'), 0), -0);
    assert.equal(offtin(Buffer.from('00a0800000000000', 'hex'), 0), 8_429_568);
  });
  it('round-trips with offtout and refuses values beyond 2^53', () => {
    for (const n of [0, 1, -1, 255, -256, 2 ** 40 + 3, -(2 ** 52)]) assert.equal(offtin(offtout(n), 0), n);
    assert.equal(offtin(Buffer.from('ffffffffffffff7f', 'hex'), 0), undefined);
  });
});

describe('parseBsdiffHeader', () => {
  it('accepts a well-formed patch and reports the block sizes', () => {
    const patch = patchOf(BZ_EMPTY, BZ_EMPTY, BZ_EMPTY, 0);
    assert.deepEqual(parseBsdiffHeader(patch, limits(patch)), {
      ok: true,
      header: { ctrlBytes: 14, diffBytes: 14, extraBytes: 14, newBytes: 0 },
    });
  });

  const refusals: [string, Buffer, RegExp, number?][] = [
    ['a foreign format (VCDIFF)', Buffer.concat([Buffer.from('d6c3c400', 'hex'), Buffer.alloc(60)]), /magic/],
    ['a BSDIFF43 (bsdiff 4.3 endsley) patch', patchOf(BZ_EMPTY, BZ_EMPTY, BZ_EMPTY, 0, 'BSDIFF43'), /magic/],
    ['a short file', Buffer.from('BSDIFF40'), /shorter than/],
    ['a truncated patch', patchOf(BZ_EMPTY, BZ_EMPTY, BZ_EMPTY, 0).subarray(0, 50), /past the end|too short/],
    ['a negative length', patchOf(BZ_EMPTY, BZ_EMPTY, BZ_EMPTY, -1), /negative/],
    ['an output over the limit', patchOf(BZ_EMPTY, BZ_EMPTY, BZ_EMPTY, 2048), /exceeds the limit/, 1024],
    [
      'a block that is not bzip2',
      patchOf(BZ_EMPTY, Buffer.alloc(14, 7), BZ_EMPTY, 0),
      /diff block is not a bzip2/,
    ],
  ];
  for (const [what, patch, reason, max] of refusals)
    it(`refuses ${what} with a reason`, () => {
      const parsed = parseBsdiffHeader(patch, limits(patch, max));
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
});
