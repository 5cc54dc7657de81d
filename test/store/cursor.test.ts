import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/infra/errors.ts';
import { checkPageLimit, decodeCursor, encodeCursor, toPage } from '../../src/store/cursor.ts';

describe('page cursor', () => {
  it('round-trips any id, including non-ASCII', () => {
    for (const id of ['a', 'dev-001', 'ünïcødé/🚀', 'x'.repeat(300)]) {
      const cursor = encodeCursor(id);
      assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      assert.equal(decodeCursor(cursor), id);
    }
  });

  it('rejects anything it did not produce', () => {
    for (const cursor of ['', 'a b', 'YQ==', 'Y', '!!!!', '/w', encodeCursor('a') + '.']) {
      assert.throws(() => decodeCursor(cursor), ValidationError, JSON.stringify(cursor));
    }
  });

  it('accepts limits from 1 to 1000 only', () => {
    checkPageLimit(1);
    checkPageLimit(1000);
    for (const limit of [0, 1001, 2.5, Number.NaN]) {
      assert.throws(() => checkPageLimit(limit), ValidationError, String(limit));
    }
  });

  it('turns limit + 1 rows into a page with a cursor, and limit rows into the last page', () => {
    const rows = ['a', 'b', 'c'].map((id) => ({ id }));
    assert.deepEqual(
      toPage(rows, 2, (row) => row.id),
      { items: ['a', 'b'], nextCursor: encodeCursor('b') },
    );
    assert.deepEqual(
      toPage(rows, 3, (row) => row.id),
      { items: ['a', 'b', 'c'] },
    );
  });
});
