import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresQueryDialect } from '../../src/fleet-query/sql/postgres-dialect.ts';
import { encodeCursor } from '../../src/store/cursor.ts';
import { buildListQuery, type ListDialect } from '../../src/store/list-query.ts';

const numbered: ListDialect = {
  placeholder: (position) => `$${position}`,
  tagConditions: (tags, bind) =>
    Object.entries(tags).map(([key, value]) => `tag(${bind(key)}) = ${bind(value)}`),
  query: postgresQueryDialect,
  sortExpression: (column) => column,
  sortValue: (value, _kind, bind) => bind(value),
};

describe('buildListQuery', () => {
  it('binds every value and fetches one row more than the limit', () => {
    const query = buildListQuery(
      { hardwareModel: "m1'; --", connectionState: 'online', tags: { site: 'ber' } },
      { cursor: encodeCursor('dev-9'), limit: 10 },
      numbered,
    );
    assert.match(
      query.sql,
      /WHERE id > \$1 AND hardware_model = \$2 AND connection_state = \$3 AND tag\(\$4\) = \$5/,
    );
    assert.match(query.sql, /ORDER BY id LIMIT \$6$/);
    assert.deepEqual(query.params, ['dev-9', "m1'; --", 'online', 'site', 'ber', 11]);
  });

  it('has no WHERE clause without filters or cursor', () => {
    const query = buildListQuery({ tags: {} }, { limit: 5 }, numbered);
    assert.doesNotMatch(query.sql, /WHERE/);
    assert.deepEqual(query.params, [6]);
  });
});
