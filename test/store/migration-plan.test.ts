import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnavailableError } from '../../src/infra/errors.ts';
import { pendingMigrations, type Migration } from '../../src/store/migration-plan.ts';

const known: Migration[] = [
  { version: 1, name: 'one', sql: '' },
  { version: 2, name: 'two', sql: '' },
];

describe('pendingMigrations', () => {
  it('returns the migrations above the applied version, in order', () => {
    assert.deepEqual(pendingMigrations(known, 0), known);
    assert.deepEqual(pendingMigrations(known, 1), [known[1]]);
    assert.deepEqual(pendingMigrations(known, 2), []);
  });

  it('refuses a database that is ahead of the code', () => {
    assert.throws(() => pendingMigrations(known, 3), UnavailableError);
  });

  it('insists on versions 1, 2, 3 … without gaps', () => {
    assert.throws(() => pendingMigrations([{ version: 2, name: 'two', sql: '' }], 0), /expected 1/);
  });
});
