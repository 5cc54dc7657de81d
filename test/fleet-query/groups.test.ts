import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxGroupDepth, parseFleetQueryWithGroups } from '../../src/fleet-query/groups.ts';
import { ValidationError } from '../../src/infra/errors.ts';

const lookupOf = (saved: Record<string, string>) => ({
  query: (name: string) => Promise.resolve(saved[name]),
  names: () => Promise.resolve(Object.keys(saved)),
});

const rejectsAt = async (promise: Promise<unknown>, offset: number, message: RegExp) => {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal((error.details?.['position'] as { offset: number }).offset, offset);
    assert.match(error.message, message);
    return true;
  });
};

describe('groups inside fleet queries', () => {
  it('substitutes the saved query, also through other groups', async () => {
    const lookup = lookupOf({
      beta: 'tag.ring = "beta"',
      'beta-trackers': 'group = "beta" and model = "tracker-2"',
    });
    const { root } = await parseFleetQueryWithGroups('group = "beta-trackers" or group in ("beta")', lookup);
    assert.equal(root.kind, 'or');
    assert.ok(root.kind === 'or' && root.left.kind === 'and' && root.left.left.kind === 'compare');
    const negated = await parseFleetQueryWithGroups('group != "beta"', lookup);
    assert.equal(negated.root.kind, 'not');
  });

  it('points at an unknown group and suggests a close name', async () => {
    await rejectsAt(
      parseFleetQueryWithGroups('online and group = "betta"', lookupOf({ beta: 'online' })),
      19,
      /unknown group "betta"; did you mean "beta"\?/,
    );
  });

  it('refuses cycles, deep chains and saved queries that stopped working, at the reference', async () => {
    await rejectsAt(
      parseFleetQueryWithGroups('group = "a"', lookupOf({ a: 'group = "b"', b: 'group = "a"' })),
      8,
      /group "a" no longer works .*refers to itself \(a → b → a\)/,
    );
    const chain = Object.fromEntries(
      Array.from({ length: maxGroupDepth + 2 }, (_, i) => [`g${i}`, `group = "g${i + 1}"`]),
    );
    chain[`g${maxGroupDepth + 2}`] = 'online';
    await rejectsAt(parseFleetQueryWithGroups('group = "g0"', lookupOf(chain)), 8, /nested too deeply/);
    await rejectsAt(
      parseFleetQueryWithGroups('online or group = "old"', lookupOf({ old: 'colour = "red"' })),
      18,
      /group "old" no longer works \(invalid fleet query at line 1, column 1: unknown field "colour"\)/,
    );
    await rejectsAt(parseFleetQueryWithGroups('group < "a"', lookupOf({})), 6, /"<" does not apply to group/);
    await rejectsAt(
      parseFleetQueryWithGroups('group', lookupOf({})),
      0,
      /group is compared with a group name/,
    );
  });
});
