import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeDevicePublish, authorizeDeviceSubscribe } from '../../src/gateway/device-acl.ts';

describe('device topic ACL', () => {
  it('accepts a device publishing its own device-to-cloud topics', () => {
    assert.deepEqual(authorizeDevicePublish('dev-1', 'fl/d/dev-1/state/reported'), {
      kind: 'accept',
      suffix: 'state/reported',
    });
    assert.deepEqual(authorizeDevicePublish('dev-1', 'fl/d/dev-1/heartbeat'), {
      kind: 'accept',
      suffix: 'heartbeat',
    });
  });

  it("denies another device's topics, server topics and anything outside fl/d/", () => {
    for (const topic of [
      'fl/d/dev-2/heartbeat',
      'fl/d/dev-1/rejected',
      'fl/provision/x',
      'other/topic',
      'fl/d/dev-1',
      'fl/d//heartbeat',
    ]) {
      assert.equal(authorizeDevicePublish('dev-1', topic).kind, 'deny', topic);
    }
  });

  it('rejects (without disconnecting) unknown topics under its own prefix', () => {
    assert.equal(authorizeDevicePublish('dev-1', 'fl/d/dev-1/nonsense').kind, 'reject');
  });

  it('lets a device subscribe only to its own cloud-to-device topics, without wildcards', () => {
    assert.equal(authorizeDeviceSubscribe('dev-1', 'fl/d/dev-1/rejected'), true);
    for (const filter of [
      'fl/d/dev-2/rejected',
      'fl/d/+/rejected',
      'fl/d/dev-1/#',
      '#',
      'fl/d/dev-1/heartbeat',
    ]) {
      assert.equal(authorizeDeviceSubscribe('dev-1', filter), false, filter);
    }
  });

  it('lets a device publish only its own update status and subscribe only to its own update offers', () => {
    assert.deepEqual(authorizeDevicePublish('dev-1', 'fl/d/dev-1/update/status'), {
      kind: 'accept',
      suffix: 'update/status',
    });
    assert.equal(authorizeDevicePublish('dev-1', 'fl/d/dev-2/update/status').kind, 'deny');
    assert.equal(authorizeDevicePublish('dev-1', 'fl/d/dev-1/update/notify').kind, 'deny');
    assert.equal(authorizeDeviceSubscribe('dev-1', 'fl/d/dev-1/update/notify'), true);
    for (const filter of ['fl/d/dev-2/update/notify', 'fl/d/dev-1/update/status', 'fl/d/+/update/notify']) {
      assert.equal(authorizeDeviceSubscribe('dev-1', filter), false, filter);
    }
  });
});
