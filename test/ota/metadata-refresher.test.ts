// The refresher against a real repository on disk, with a controlled clock and timers.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/infra/logger.ts';
import type { Timers } from '../../src/infra/timers.ts';
import { dueForRefresh, startMetadataRefresher } from '../../src/ota/metadata/metadata-refresher.ts';
import { openUpdateRepository } from '../../src/ota/metadata/update-repository.ts';
import type { NewAuditEntry } from '../../src/store/provisioning-types.ts';

const HOUR_MS = 60 * 60 * 1000;

/** Timers whose intervals fire only when the test says so. */
function manualTimers(): Timers & { fire(): void; intervals: Set<() => void> } {
  const intervals = new Set<() => void>();
  return {
    intervals,
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
    setInterval: (callback) => {
      intervals.add(callback);
      return callback;
    },
    clearInterval: (handle) => intervals.delete(handle as () => void),
    fire: () => intervals.forEach((callback) => callback()),
  };
}

async function versionOf(dir: string, file: string): Promise<number> {
  return (JSON.parse(await readFile(join(dir, file), 'utf8')) as { signed: { version: number } }).signed
    .version;
}

describe('dueForRefresh', () => {
  it('is due once less than half the lifetime is left', () => {
    assert.equal(dueForRefresh(0, 24 * HOUR_MS, 24 * HOUR_MS), false);
    assert.equal(dueForRefresh(12 * HOUR_MS, 24 * HOUR_MS, 24 * HOUR_MS), false);
    assert.equal(dueForRefresh(12 * HOUR_MS + 1, 24 * HOUR_MS, 24 * HOUR_MS), true);
  });
});

describe('metadata refresher', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'flotilla-refresher-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('re-signs timestamp and then snapshot before they expire', async () => {
    let nowMs = Date.UTC(2030, 0, 1);
    const clock = { now: () => nowMs };
    const audit: NewAuditEntry[] = [];
    const logger = createLogger('silent');
    const repo = await openUpdateRepository(dataDir, {
      clock,
      logger,
      audit: { appendAudit: (entry) => Promise.resolve(void audit.push(entry)) },
    });
    // First start: keys 0600 in a 0700 directory, an empty targets v1 published and audited.
    assert.equal((await stat(join(dataDir, 'tuf', 'keys'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dataDir, 'tuf', 'keys', 'targets.pem'))).mode & 0o777, 0o600);
    assert.deepEqual(
      audit.map((entry) => entry.action),
      ['tuf.metadata_published'],
    );
    const timers = manualTimers();
    const refresher = startMetadataRefresher({ timers, logger, refresh: () => repo.refreshExpiring() });
    const settle = async () => {
      timers.fire();
      await refresher.drain();
    };
    await refresher.drain(); // the check made at start
    assert.equal(timers.intervals.size, 1);
    assert.equal(await versionOf(repo.dir, 'timestamp.json'), 1);

    nowMs += 13 * HOUR_MS; // timestamp (1 day) has under half left
    await settle();
    assert.equal(await versionOf(repo.dir, 'timestamp.json'), 2);
    await settle(); // nothing due: no new version
    assert.equal(await versionOf(repo.dir, 'timestamp.json'), 2);

    nowMs += 3 * 24 * HOUR_MS; // snapshot (7 days) has under half left
    await settle();
    assert.equal(await versionOf(repo.dir, '2.snapshot.json'), 2);
    assert.equal(await versionOf(repo.dir, 'timestamp.json'), 3);
    await refresher.stop();
    assert.equal(timers.intervals.size, 0);
  });
  it('re-signs targets before their 90 days run out, or stages them when the targets key is offline', async () => {
    const dir = await mkdtemp(join(dataDir, 'targets-'));
    let nowMs = Date.UTC(2030, 0, 1);
    const clock = { now: () => nowMs };
    const audit: NewAuditEntry[] = [];
    const deps = {
      clock,
      logger: createLogger('silent'),
      audit: { appendAudit: (entry: NewAuditEntry) => Promise.resolve(void audit.push(entry)) },
    };
    const online = await openUpdateRepository(dir, deps);
    nowMs += 46 * 24 * HOUR_MS; // targets (90 days) have under half left
    await online.refreshExpiring();
    assert.equal(await versionOf(online.dir, '2.targets.json'), 2);
    const expires = (
      JSON.parse(await readFile(join(online.dir, '2.targets.json'), 'utf8')) as {
        signed: { expires: string };
      }
    ).signed.expires;
    assert.equal(Date.parse(expires), nowMs + 90 * 24 * HOUR_MS);

    // The operator takes the targets key offline: the refresher stages the re-signing instead.
    await rename(join(dir, 'tuf', 'keys', 'targets.pem'), join(dir, 'targets.pem'));
    const offline = await openUpdateRepository(dir, deps);
    nowMs += 46 * 24 * HOUR_MS;
    await offline.refreshExpiring();
    await offline.refreshExpiring(); // staged once, not again while it is pending
    assert.equal(audit.filter((entry) => entry.action === 'tuf.targets_staged').length, 1);
    const pending = await offline.pendingTargets();
    assert.equal(pending?.version, 3);
  });
});
