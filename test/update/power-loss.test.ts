// Power-loss safety of the update client. A crashable disk keeps what was synced and drops the
// rest on a power cut. For every mutating disk operation of a whole update (journal writes, part
// file writes and syncs, slot writes, boot env writes) and every named checkpoint, one run cuts
// power right there, runs the bootloader's power-on decision and starts a fresh client with
// resumeAfterBoot() until the device is idle. Clean reboots are treated as power cuts too.
// Invariants: the device always boots a slot holding the old or the new verified image; success
// is reported only when the new image is committed and booted; the final report matches what
// the device runs; status seq never goes back (a re-sent final status keeps its seq).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  bootloaderDecide,
  encodeFileBootEnv,
  parseFileBootEnv,
} from '../../src/agent/update/boot-file-env.ts';
import type { Checkpoint } from '../../src/agent/update/types.ts';
import { finalUpdateStates, type UpdateStatus } from '../../src/contracts/update-messages.ts';
import { CrashableDisk, newPowerHistory, PowerCutError } from './crashable-disk.ts';
import { createClient, createDevice } from './device-fixture.ts';
import { offer, servers, world, type World } from './scenario.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'flotilla-power-'));
});
after(async () => {
  for (const server of servers) await server.close();
  await rm(base, { recursive: true, force: true });
});

interface Cut {
  op?: number;
  checkpoint?: { name: Checkpoint; nth: number };
}

interface Outcome {
  ops: number;
  checkpoints: Checkpoint[];
  reports: UpdateStatus[];
  final: UpdateStatus;
  log: string[];
}

const MAX_BOOTS = 8;

async function scenario(w: World, cut: Cut): Promise<Outcome> {
  const device = await createDevice(base, w.repo.dir, w.oldImage);
  const history = newPowerHistory(cut.op);
  const reports: UpdateStatus[] = [];
  const checkpoints: Checkpoint[] = [];
  let boots = 0;
  for (; boots < MAX_BOOTS; boots++) {
    const disk = new CrashableDisk(history);
    const rig = createClient(device, w.server.url, {
      disk,
      reports,
      isOff: () => disk.dead,
      checkpoint: (name) => {
        checkpoints.push(name);
        const nth = checkpoints.filter((c) => c === name).length;
        if (cut.checkpoint?.name === name && cut.checkpoint.nth === nth) {
          disk.cut();
          throw new PowerCutError(`power cut at checkpoint ${name} #${nth}`);
        }
      },
    });
    let powerCut = false;
    try {
      await rig.client.resumeAfterBoot();
      // The server keeps offering the deployment until it sees a final status (push or pull).
      const finished = reports.some((r) => finalUpdateStates.includes(r.state));
      if (!rig.rebooted() && rig.client.current() === undefined && !finished) await rig.client.offer(offer());
    } catch (err) {
      if (!(err instanceof PowerCutError)) throw err;
      powerCut = true;
    }
    if (!powerCut && !rig.rebooted()) break; // idle
    disk.cut();
    // Power-on: the bootloader decides from the durable env.
    const env = bootloaderDecide(parseFileBootEnv(readFileSync(device.envPath)));
    new CrashableDisk(history).bootloaderWrite(device.envPath, encodeFileBootEnv(env));
  }
  assert.ok(boots < MAX_BOOTS, 'the device settles');
  const finals = reports.filter((r) => finalUpdateStates.includes(r.state));
  assert.ok(finals.length > 0, 'a final status was reported');
  const final = finals.at(-1)!;

  // The device boots a slot with a verified image, committed, with no trial pending.
  const env = parseFileBootEnv(readFileSync(device.envPath));
  const slot = readFileSync(device.slots[env.booted]);
  const hasOld = slot.subarray(0, w.oldImage.length).equals(w.oldImage);
  const hasNew = slot.subarray(0, w.newImage.length).equals(w.newImage);
  assert.ok(hasOld || hasNew, 'booted slot holds a verified image');
  assert.equal(env.primary, env.booted);
  assert.equal(env.trial, undefined);

  // The final report is truthful.
  if (final.state === 'success') assert.ok(hasNew, 'success only with the new image committed');
  else {
    assert.ok(hasOld, 'not success: the old image runs');
    assert.equal(final.state, 'rolled-back');
    assert.equal(final.reason, 'trial_boot_failed');
  }
  assert.ok(
    finals.every((r) => r.state === final.state),
    'final statuses agree',
  );
  const firstFinal = reports.indexOf(finals[0]!);
  assert.ok(
    reports.slice(firstFinal).every((r) => finalUpdateStates.includes(r.state)),
    'nothing after final',
  );
  // A final status re-sent after a cut between sending and journaling "sent" keeps its seq, so
  // the server drops it if the first copy arrived; every other report has a higher seq.
  for (let i = 1; i < reports.length; i++) {
    const [prev, next] = [reports[i - 1]!, reports[i]!];
    assert.ok(
      next.seq > prev.seq || (next.seq === prev.seq && isDeepStrictEqual(next, prev)),
      'seq increases',
    );
  }
  return { ops: history.ops, checkpoints, reports, final, log: history.log };
}

async function enumerate(w: World): Promise<Record<string, number>> {
  const clean = await scenario(w, {});
  assert.equal(clean.final.state, 'success');
  const outcomes: Record<string, number> = {};
  const count = (label: string, outcome: Outcome) => {
    const key = `${outcome.final.state}${outcome.final.reason ? `:${outcome.final.reason}` : ''}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    void label;
    if (process.env['PL_DEBUG']) console.log(label, key);
  };
  for (let op = 0; op < clean.ops; op++) {
    const label = `op ${clean.log[op] ?? op}`;
    try {
      count(label, await scenario(w, { op }));
    } catch (err) {
      assert.fail(`power cut before ${label}: ${(err as Error).message}`);
    }
  }
  const seen = new Map<Checkpoint, number>();
  for (const name of clean.checkpoints) {
    const nth = (seen.get(name) ?? 0) + 1;
    seen.set(name, nth);
    try {
      count(name, await scenario(w, { checkpoint: { name, nth } }));
    } catch (err) {
      assert.fail(`power cut at checkpoint ${name} #${nth}: ${(err as Error).message}`);
    }
  }
  return outcomes;
}

describe('power loss during an update', () => {
  it('resumes the part file from its durable length with Range after a cut', async () => {
    const w = await world(base);
    const clean = await scenario(w, {});
    const op = clean.log.findIndex((line) => / write update\.part@[1-9]/.test(line));
    assert.ok(op > 0, 'the download is written in several chunks');
    const durable = Number(/@(\d+)/.exec(clean.log[op] ?? '')?.[1]);
    w.server.requests.length = 0;
    const outcome = await scenario(w, { op });
    assert.equal(outcome.final.state, 'success');
    const ranges = w.server.requests.filter((r) => r.path.includes('/targets/')).map((r) => r.range);
    assert.deepEqual(ranges, [undefined, `bytes=${durable}-`]);
  });

  it('full image: every disk operation and checkpoint is a safe place to lose power', async () => {
    const outcomes = await enumerate(await world(base));
    assert.ok((outcomes['success'] ?? 0) > 0);
    assert.ok((outcomes['rolled-back:trial_boot_failed'] ?? 0) > 0, 'cuts during the trial boot fall back');
  });

  it('delta: every disk operation and checkpoint is a safe place to lose power', async () => {
    const outcomes = await enumerate(await world(base, { delta: true }));
    assert.ok((outcomes['success'] ?? 0) > 0);
  });
});
