import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFleetQuery, queryLimits } from '../../src/fleet-query/index.ts';
import { ValidationError } from '../../src/infra/errors.ts';

interface ErrorDetails {
  position: { offset: number; line: number; column: number };
  length: number;
  expected: string[];
  suggestion?: string;
}

/** Parses `text`, expecting a ValidationError at `offset` spanning `length`; returns it. */
function rejects(
  text: string,
  offset: number,
  length: number,
  message: RegExp,
): ErrorDetails & { message: string } {
  try {
    parseFleetQuery(text);
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    const details = error.details as unknown as ErrorDetails;
    assert.equal(details.position.offset, offset, `${text}: ${error.message}`);
    assert.equal(details.length, length, `${text}: ${error.message}`);
    assert.ok(Array.isArray(details.expected) && details.expected.length > 0);
    assert.match(error.message, message);
    return { ...details, message: error.message };
  }
  assert.fail(`${text} was accepted`);
}

describe('fleet query parser', () => {
  it('builds the tree with not > and > or', () => {
    const { root } = parseFleetQuery('online or model = "a" and not region = "b"');
    assert.equal(root.kind, 'or');
    assert.ok(root.kind === 'or' && root.right.kind === 'and' && root.right.right.kind === 'not');
  });

  it('reads every literal kind', () => {
    const { root } = parseFleetQuery(
      'battery < -1.5 and offline_for > 1h30m and firmware < 2.4.0-rc.1+b.2 and region = "a\\"\\\\\\n\\u00e9" and online = TRUE',
    );
    const leaves: unknown[] = [];
    const walk = (node: typeof root): void => {
      if (node.kind === 'and' || node.kind === 'or') {
        walk(node.left);
        walk(node.right);
      } else leaves.push(node.kind === 'compare' ? node.value : node.kind);
    };
    walk(root);
    assert.deepEqual(leaves, [
      { type: 'number', value: -1.5 },
      { type: 'duration', ms: 5_400_000 },
      { type: 'version', key: '012014010-1rc!0011', text: '2.4.0-rc.1+b.2' },
      { type: 'text', value: 'a"\\\né' },
      'flag',
    ]);
  });

  it('rewrites != and not in as negations', () => {
    assert.equal(parseFleetQuery('region != "x"').root.kind, 'not');
    assert.equal(parseFleetQuery('region not in ("x")').root.kind, 'not');
    assert.equal(parseFleetQuery('online != true').root.kind, 'not');
  });

  it('accepts quoted and dotted tag keys and telemetry metrics', () => {
    const { root } = parseFleetQuery(
      'tag."odd key" = "x" and tag.site.floor-2 exists and telemetry.rssi < -80',
    );
    assert.ok(root.kind === 'and' && root.left.kind === 'and');
    const [first, second] = [root.left.left, root.left.right];
    assert.ok(first.kind === 'compare' && first.field.kind === 'tag' && first.field.key === 'odd key');
    assert.ok(second.kind === 'exists' && second.field.kind === 'tag' && second.field.key === 'site.floor-2');
  });
});

describe('fleet query errors point at the offending text', () => {
  it('unknown field, with the closest known name', () => {
    const details = rejects(
      'model = "a" and modle = "x"',
      16,
      5,
      /unknown field "modle"; did you mean "model"\?/,
    );
    assert.equal(details.suggestion, 'model');
    assert.ok(details.expected.includes('firmware'));
    rejects('batery < 20', 0, 6, /did you mean "battery"/);
    rejects('tags.ring = "x"', 0, 9, /did you mean "tag.ring"/);
    rejects('colour = "red"', 0, 6, /unknown field "colour"$/m);
    rejects('tag = "x"', 0, 3, /"tag" needs a key/);
  });

  it('type mismatches', () => {
    rejects('model = 3', 8, 1, /model is text, not a number; quote it/);
    rejects('battery < "low"', 10, 5, /battery is a number, not a string/);
    rejects('firmware < 2.4', 11, 3, /write a full version like 2\.4\.0/);
    rejects('firmware < "2.4.0"', 11, 7, /ordering needs an unquoted version/);
    rejects('offline_for > 24', 14, 2, /offline_for is a duration, not a number/);
    rejects('tag.ring = 3', 11, 1, /quote it/);
    rejects('online = "yes"', 9, 5, /online is true or false/);
    rejects('created > "yesterday"', 10, 11, /not a UTC date/);
    rejects('status = "onlin"', 9, 7, /status is never "onlin"; did you mean "online"\?/);
    const details = rejects('status = true', 9, 4, /status is one of a fixed set of values, not a boolean/);
    assert.deepEqual(details.expected, ['"online"', '"offline"']);
  });

  it('operators a field does not support', () => {
    rejects('tag.ring < "a"', 9, 1, /"<" does not apply to tag\.ring/);
    rejects('model >= "a"', 6, 2, /">=" does not apply to model/);
    rejects('online > false', 7, 1, /does not apply to online/);
    rejects('model', 0, 5, /a condition needs an operator/);
  });

  it('syntax errors', () => {
    rejects('region in ()', 11, 1, /empty "in" list/);
    rejects('region in "a"', 10, 3, /expected "\("/);
    rejects('(online', 7, 0, /expected "\)", found end of query/);
    rejects('online)', 6, 1, /unexpected "\)"/);
    rejects('online and', 10, 0, /expected a field, found end of query/);
    rejects('model = eu', 8, 2, /strings need double quotes: "eu"/);
    rejects("model = 'a'", 8, 1, /unexpected character "'"/);
    rejects('model = "abc', 8, 4, /unterminated string/);
    rejects('model = "a\\qb"', 10, 2, /unknown escape/);
    rejects('model = "\\u0000"', 9, 6, /NUL/);
    rejects('battery ! 3', 8, 1, /unexpected "!"/);
    rejects('battery < 1e5', 10, 3, /malformed literal "1e5"/);
    rejects('firmware < 2.4.0.1', 11, 7, /malformed literal/);
    rejects('offline_for > 5y', 14, 2, /malformed literal/);
    rejects('model = "a" region = "b"', 12, 6, /unexpected "region"/);
    rejects('tag. = "x"', 4, 1, /expected a name after "\."/);
    rejects('', 0, 0, /empty query/);
    rejects('not', 3, 0, /expected a field/);
    rejects('model not = "a"', 10, 1, /unexpected "="/);
  });

  it('reports line and column on multi-line queries, with a caret excerpt', () => {
    const details = rejects('model = "tracker-2"\n  and battery < "low"', 36, 5, /line 2, column 17/);
    assert.deepEqual(details.position, { offset: 36, line: 2, column: 17 });
    assert.ok(
      details.message.endsWith('\n    and battery < "low"\n                  ^^^^^'),
      details.message,
    );
  });

  it('limits length, nesting and in-list size', () => {
    rejects(`model = "${'x'.repeat(queryLimits.maxBytes)}"`, 0, 0, /longer than allowed/);
    const deep = `${'('.repeat(queryLimits.maxDepth + 1)}online${')'.repeat(queryLimits.maxDepth + 1)}`;
    rejects(deep, queryLimits.maxDepth, 1, /nested too deeply/);
    rejects(
      `${'not '.repeat(queryLimits.maxDepth + 1)}online`,
      4 * queryLimits.maxDepth,
      3,
      /nested too deeply/,
    );
    const values = Array.from({ length: queryLimits.maxInValues + 1 }, (_, i) => String(i));
    const text = `battery in (${values.join(',')})`;
    rejects(text, text.lastIndexOf(',') + 1, 3, /too many values/);
    parseFleetQuery(`battery in (${values.slice(1).join(',')})`);
    parseFleetQuery(`${'('.repeat(queryLimits.maxDepth)}online${')'.repeat(queryLimits.maxDepth)}`);
    rejects('offline_for > 99999999w', 14, 9, /duration too long/);
  });
});
