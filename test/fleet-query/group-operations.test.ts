/**
 * Group operations over the management API and the CLI, on a real server: dry runs, tagging,
 * moving to static groups, refusals, the audit trail, and a rollout dry run by query.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServerFixture, type ServerFixture } from '../helpers/server-fixture.ts';
import { runFlotilla } from '../helpers/flotilla-cli.ts';

const flotilla = runFlotilla;

interface OperationBody {
  dryRun: boolean;
  matched: number;
  sample: string[];
  changed: number;
  group?: { name: string; created: boolean };
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

describe('group operations', () => {
  let fx: ServerFixture;
  let env: Record<string, string>;
  const op = async (body: unknown) => {
    const response = await fx.request('POST', '/api/v1/devices/operations', body);
    return { status: response.status, body: response.body as unknown as OperationBody };
  };
  const tagsOf = async (id: string) => (await fx.server().store.getDevice(id))?.tags;

  before(async () => {
    fx = await createServerFixture();
    env = { FLOTILLA_URL: `http://127.0.0.1:${fx.httpPort}` };
    const store = fx.server().store;
    for (let i = 0; i < 30; i++)
      await store.createDevice(
        {
          id: `g${String(i).padStart(2, '0')}`,
          serial: `SN-g${i}`,
          hardwareModel: i % 2 === 0 ? 'tracker-2' : 'sensor-1',
          region: i < 20 ? 'eu-west' : 'us-east',
          tags: { site: 'berlin' },
        },
        Date.now(),
      );
  });
  after(async () => {
    await fx?.close();
  });

  it('dry-runs a tag operation: how many devices and which, nothing changed', async () => {
    const dry = await op({
      where: 'region = "eu-west" and model = "tracker-2"',
      action: { type: 'tag', set: { ring: 'beta' } },
      dryRun: true,
    });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.matched, 10);
    assert.equal(dry.body.changed, 0);
    assert.deepEqual(dry.body.sample.slice(0, 3), ['g00', 'g02', 'g04']);
    assert.deepEqual(await tagsOf('g00'), { site: 'berlin' });
  });

  it('tags the devices, then a query on the tag finds exactly them', async () => {
    const done = await op({
      where: 'region = "eu-west" and model = "tracker-2"',
      action: { type: 'tag', set: { ring: 'beta', site: 'lab' } },
    });
    assert.equal(done.status, 200);
    assert.deepEqual([done.body.matched, done.body.changed], [10, 10]);
    assert.deepEqual(await tagsOf('g00'), { site: 'lab', ring: 'beta' });
    const count = await fx.api<{ count: number }>(
      `/api/v1/devices/count?where=${encodeURIComponent('tag.ring = "beta"')}`,
    );
    assert.equal(count.body.count, 10);
    const again = await op({ where: 'tag.ring = "beta"', action: { type: 'tag', set: { ring: 'beta' } } });
    assert.deepEqual([again.body.matched, again.body.changed], [10, 0], 'idempotent');
    const removed = await op({ where: 'tag.ring = "beta"', action: { type: 'tag', remove: ['site'] } });
    assert.equal(removed.body.changed, 10);
    assert.deepEqual(await tagsOf('g00'), { site: 'berlin', ring: 'beta' }, 'the reported site shows again');
    const audit = await fx.api<{
      items: Array<{ action: string; target: string; details: Record<string, unknown> }>;
    }>('/api/v1/audit?action=devices.tagged&limit=10');
    assert.equal(audit.body.items.length, 3);
    assert.equal(audit.body.items[2]?.target, 'region = "eu-west" and model = "tracker-2"');
    assert.deepEqual(audit.body.items[2]?.details.set, { ring: 'beta', site: 'lab' });
  });

  it('moves devices to a static group it creates, and from one group to another', async () => {
    const dry = await op({
      where: 'region = "us-east"',
      action: { type: 'move-to-group', group: 'pilot' },
      dryRun: true,
    });
    assert.deepEqual([dry.body.matched, dry.body.group], [10, { name: 'pilot', created: true }]);
    assert.equal((await fx.api('/api/v1/groups/pilot')).status, 404, 'a dry run creates no group');
    const moved = await op({
      where: 'region = "us-east"',
      action: { type: 'move-to-group', group: 'pilot' },
    });
    assert.deepEqual([moved.body.changed, moved.body.group], [10, { name: 'pilot', created: true }]);
    const members = await fx.api<{ count: number }>('/api/v1/devices/count?group=pilot');
    assert.equal(members.body.count, 10);
    await op({ where: 'id in ("g20", "g21")', action: { type: 'move-to-group', group: 'canary' } });
    assert.equal((await fx.api<{ count: number }>('/api/v1/devices/count?group=pilot')).body.count, 8);
    assert.equal((await fx.api<{ count: number }>('/api/v1/devices/count?group=canary')).body.count, 2);
  });

  it('refuses moving to a dynamic group, bad queries (with the position) and bad actions', async () => {
    await fx.request('POST', '/api/v1/groups', { name: 'trackers', query: 'model = "tracker-2"' });
    const dynamic = await op({ all: true, action: { type: 'move-to-group', group: 'trackers' } });
    assert.equal(dynamic.status, 409);
    assert.match(dynamic.body.error?.message ?? '', /dynamic group/);
    const bad = await op({ where: 'regoin = "x"', action: { type: 'tag', set: { a: 'b' } } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error?.details?.position, { offset: 0, line: 1, column: 1 });
    const noTarget = await op({ action: { type: 'tag', set: { a: 'b' } } });
    assert.equal(noTarget.status, 400);
    const both = await op({ all: true, where: 'model = "x"', action: { type: 'tag', set: { a: 'b' } } });
    assert.equal(both.status, 400);
    const all = await op({ all: true, action: { type: 'tag', set: { a: 'b' } }, dryRun: true });
    assert.equal(all.body.matched, 30);
    const empty = await op({ all: true, action: { type: 'tag' } });
    assert.equal(empty.status, 400);
    const badKey = await op({ all: true, action: { type: 'tag', set: { 'Bad Key': 'x' } } });
    assert.equal(badKey.status, 400);
    assert.deepEqual(await tagsOf('g01'), { site: 'berlin' }, 'nothing changed');
  });

  it('dry-runs a rollout over a query, from the API and the CLI', async () => {
    await fx.publishRelease('tracker-2', '9.0.0', Buffer.alloc(4096, 7));
    const spec = {
      release: { model: 'tracker-2', version: '9.0.0' },
      selector: { where: 'region = "eu-west"' },
    };
    const plan = await fx.request('POST', '/api/v1/rollouts/dry-run', spec);
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.equal(plan.body.devices, 10);
    assert.deepEqual((plan.body.sample as string[]).slice(0, 2), ['g00', 'g02']);
    assert.equal((await fx.api<{ items: unknown[] }>('/api/v1/rollouts')).body.items.length, 0);
    const bad = await fx.request('POST', '/api/v1/rollouts/dry-run', {
      ...spec,
      selector: { where: 'region = ' },
    });
    assert.equal(bad.status, 400);
    const cli = await flotilla(
      [
        'rollout',
        'create',
        '--model',
        'tracker-2',
        '--version',
        '9.0.0',
        '--where',
        'tag.ring = "beta"',
        '--dry-run',
      ],
      env,
    );
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, /^dry run: 10 of 10 matched device\(s\) would be updated/);
  });

  it('runs from the CLI: dry run by default, --yes applies, --json for scripts', async () => {
    const dry = await flotilla(
      ['devices', 'tag', '--where', 'model = "sensor-1"', '--set', 'power=mains'],
      env,
    );
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /^dry run: 15 device\(s\) match; nothing changed/);
    assert.deepEqual(await tagsOf('g01'), { site: 'berlin' });
    const applied = await flotilla(
      ['devices', 'tag', '--where', 'model = "sensor-1"', '--set', 'power=mains', '--yes', '--json'],
      env,
    );
    assert.equal(applied.code, 0);
    assert.deepEqual((JSON.parse(applied.stdout) as OperationBody).changed, 15);
    const move = await flotilla(
      ['devices', 'move', '--group', 'canary', '--to-group', 'pilot', '--yes'],
      env,
    );
    assert.match(move.stdout, /^2 of 2 matched device\(s\) changed/);
    const help = await flotilla(['devices', 'tag', '--help'], env);
    assert.match(help.stdout, /--dry-run|--yes/);
  });
});
