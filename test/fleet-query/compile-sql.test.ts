import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFleetQuery } from '../../src/fleet-query/index.ts';
import { compileWhere } from '../../src/fleet-query/sql/compile.ts';
import type { QueryDialect, SqlValue } from '../../src/fleet-query/sql/dialect.ts';
import { postgresQueryDialect } from '../../src/fleet-query/sql/postgres-dialect.ts';
import { sqliteQueryDialect } from '../../src/fleet-query/sql/sqlite-dialect.ts';
import { injectionCases, queryCases } from './fleet-query-store.contract.ts';

function compile(
  text: string,
  dialect: QueryDialect,
  placeholder: (n: number) => string,
  nowMs = 1_000_000_000_000,
) {
  const params: SqlValue[] = [];
  const sql = compileWhere(parseFleetQuery(text), {
    dialect,
    nowMs,
    bind: (value) => {
      params.push(value);
      return placeholder(params.length);
    },
  });
  return { sql, params };
}

const dialects = [
  { name: 'sqlite', dialect: sqliteQueryDialect, placeholder: () => '?' },
  { name: 'postgres', dialect: postgresQueryDialect, placeholder: (n: number) => `$${n}` },
];

describe('fleet query compiler', () => {
  for (const { name, dialect, placeholder } of dialects) {
    it(`${name}: binds every value; the SQL holds no quote and no input`, () => {
      for (const [text] of [...queryCases, ...injectionCases]) {
        const { sql, params } = compile(text, dialect, placeholder);
        assert.ok(!sql.includes("'"), `${text}\n${sql}`);
        for (const value of params) {
          if (typeof value === 'string' && value.length > 2)
            assert.ok(!sql.includes(value), `${value} in ${sql}`);
        }
        if (name === 'sqlite') assert.equal(sql.split('?').length - 1, params.length, sql);
      }
    });
  }

  it('binds tag keys and metric names, in textual order for positional placeholders', () => {
    const { sql, params } = compile(
      'tag."k\'" in ("a", "b") and battery < 20',
      sqliteQueryDialect,
      () => '?',
    );
    assert.equal(
      sql,
      '(EXISTS (SELECT 1 FROM json_each(devices.tags) AS tag WHERE tag.key = ? AND tag.value IN (?, ?)) AND ' +
        'EXISTS (SELECT 1 FROM telemetry_latest AS t WHERE t.device_id = devices.id AND t.metric = ? AND t.value < ?))',
    );
    assert.deepEqual(params, ["k'", 'a', 'b', 'battery_pct', 20]);
  });

  it('compares versions by key and durations against the injected time', () => {
    const version = compile('firmware < 2.10.0', postgresQueryDialect, (n) => `$${n}`);
    assert.equal(
      version.sql,
      '(devices.firmware_key IS NOT NULL AND devices.firmware_key < ($1::text COLLATE "C"))',
    );
    assert.deepEqual(version.params, ['0120210010~']);
    const elapsed = compile('offline_for > 24h', sqliteQueryDialect, () => '?', 100_000_000);
    assert.deepEqual(elapsed.params, ['offline', 100_000_000 - 86_400_000]);
    assert.match(
      elapsed.sql,
      /coalesce\(devices\.last_seen_at, devices\.connection_changed_at, devices\.created_at\) < \?/,
    );
  });
});
