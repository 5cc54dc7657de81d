// Maintenance windows on the device: the client downloads and verifies at once, reports
// `downloaded` and installs only while the offer's window is open, on its own clock; the wait
// survives a restart, `force` does not skip it, and an install under way is never interrupted.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UpdateStatus } from '../../src/contracts/update-messages.ts';
import { createClient, sha256, slotHash } from './device-fixture.ts';
import { offer, servers, world } from './scenario.ts';

/** 02:00-03:00 UTC every day. */
const nightly = { cron: '0 2 * * *', durationS: 3600, timezone: 'UTC' };
const at = (iso: string): number => Date.parse(iso);

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-update-window-'));
});
after(async () => {
  for (const server of servers) await server.close();
  await rm(base, { recursive: true, force: true });
});

/** The device's clock, moved by the test. */
function deviceClock(startIso: string) {
  let nowMs = at(startIso);
  return {
    clock: { now: () => nowMs },
    set: (iso: string) => {
      nowMs = at(iso);
    },
  };
}

const waits = (reports: UpdateStatus[]) =>
  reports.filter((r) => r.state === 'downloaded' && /maintenance window/.test(r.detail ?? ''));

describe('update client: maintenance windows', () => {
  it('downloads outside the window, reports downloaded once, installs when the window opens', async () => {
    const w = await world(base);
    const time = deviceClock('2026-06-10T10:00:00Z');
    const slotB = await readFile(w.device.slots.b);
    const { client, reports, rebooted } = createClient(w.device, w.server.url, { clock: time.clock });
    await client.offer(offer({ installWindow: nightly }));
    assert.equal(rebooted(), false);
    assert.deepEqual(await readFile(w.device.slots.b), slotB, 'the inactive slot is untouched');
    assert.deepEqual(client.current(), { deploymentId: 'dep-1', phase: 'downloaded' });
    assert.deepEqual(
      reports.map((r) => r.state).filter((s) => s !== 'downloading'),
      ['downloaded', 'downloaded'],
    );
    assert.match(
      reports.at(-1)?.detail ?? '',
      /waiting for the maintenance window \(opens 2026-06-11T02:00:00/,
    );
    const count = reports.length;
    time.set('2026-06-11T01:59:00Z');
    await client.resume(); // what the agent's periodic re-check does
    assert.equal(rebooted(), false);
    assert.equal(reports.length, count, 'the same wait is not reported again');
    time.set('2026-06-11T02:00:30Z');
    await client.resume();
    assert.equal(rebooted(), true);
    assert.equal(reports.at(-1)?.state, 'rebooting');
    assert.equal(await slotHash(w.device, 'b', w.newImage.length), sha256(w.newImage));
  });

  it('a restart while parked keeps waiting and installs at the window', async () => {
    const w = await world(base);
    const time = deviceClock('2026-06-10T10:00:00Z');
    const first = createClient(w.device, w.server.url, { clock: time.clock });
    await first.client.offer(offer({ installWindow: nightly }));
    assert.equal(waits(first.reports).length, 1);
    // The agent restarts (power cycle) before the window: the journal still holds the window.
    time.set('2026-06-11T01:00:00Z');
    const restarted = createClient(w.device, w.server.url, { clock: time.clock, reports: first.reports });
    await restarted.client.resumeAfterBoot();
    assert.equal(restarted.rebooted(), false);
    assert.equal(waits(first.reports).length, 1, 'still the same wait');
    time.set('2026-06-11T02:10:00Z');
    await restarted.client.resume();
    assert.equal(restarted.rebooted(), true);
    assert.equal(first.rebooted(), false);
  });

  it('back only after the window closed: waits for the next one; force does not skip it', async () => {
    const w = await world(base);
    const time = deviceClock('2026-06-11T01:30:00Z');
    const { client, reports, rebooted } = createClient(w.device, w.server.url, { clock: time.clock });
    await client.offer(offer({ installWindow: nightly, force: true }));
    assert.equal(rebooted(), false, 'force does not bypass the window');
    time.set('2026-06-11T03:00:00Z'); // the device was off for the whole window
    await client.resume();
    assert.equal(rebooted(), false);
    assert.match(reports.at(-1)?.detail ?? '', /opens 2026-06-12T02:00:00/);
    assert.equal(waits(reports).length, 2);
    time.set('2026-06-12T02:59:59Z');
    await client.resume();
    assert.equal(rebooted(), true);
  });

  it('an install that started inside the window finishes after the window closed', async () => {
    const w = await world(base);
    const time = deviceClock('2026-06-11T02:59:00Z');
    const { client, reports, rebooted } = createClient(w.device, w.server.url, {
      clock: time.clock,
      checkpoint: (name) => {
        if (name === 'installing') time.set('2026-06-11T03:30:00Z');
      },
    });
    await client.offer(offer({ installWindow: nightly }));
    assert.equal(rebooted(), true);
    assert.equal(waits(reports).length, 0);
    assert.equal(await slotHash(w.device, 'b', w.newImage.length), sha256(w.newImage));
  });

  it('an offer without a window (or with null) installs at once', async () => {
    const w = await world(base);
    const time = deviceClock('2026-06-10T10:00:00Z');
    const { client, rebooted } = createClient(w.device, w.server.url, { clock: time.clock });
    await client.offer(offer({ installWindow: null }));
    assert.equal(rebooted(), true);
  });
});
