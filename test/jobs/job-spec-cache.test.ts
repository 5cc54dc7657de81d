import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobSpecCache } from '../../src/jobs/job-spec-cache.ts';
import { jobSpecSchema } from '../../src/jobs/job-spec.ts';
import type { JobRecord } from '../../src/store/job-types.ts';

const spec = jobSpecSchema.parse({ operation: 'sensors', target: { deviceIds: ['d1', 'd2'] } });

function job(id: string): JobRecord {
  return {
    id,
    spec,
    state: 'in-progress',
    reason: null,
    createdBy: 'user:alice',
    deviceCount: 2,
    createdAtMs: 0,
    updatedAtMs: 0,
    startedAtMs: 0,
    finishedAtMs: null,
  };
}

/** A store answering for the ids in `known`, counting its reads; `fail` makes the next read reject. */
function fakeJobs(known: string[]) {
  const reads: string[] = [];
  const state = { fail: false };
  return {
    reads,
    state,
    getJob(id: string): Promise<JobRecord | undefined> {
      reads.push(id);
      if (state.fail) {
        state.fail = false;
        return Promise.reject(new Error('store down'));
      }
      return Promise.resolve(known.includes(id) ? job(id) : undefined);
    },
  };
}

describe('job spec cache', () => {
  it('reads a job once, also for calls made together', async () => {
    const jobs = fakeJobs(['j1']);
    const specs = createJobSpecCache(jobs);
    const together = await Promise.all([specs.get('j1'), specs.get('j1'), specs.get('j1')]);
    assert.deepEqual(together, [spec, spec, spec]);
    assert.deepEqual(await specs.get('j1'), spec);
    assert.deepEqual(jobs.reads, ['j1']);
  });

  it('does not keep an unknown job or a failed read', async () => {
    const jobs = fakeJobs(['j1']);
    const specs = createJobSpecCache(jobs);
    assert.equal(await specs.get('nope'), undefined);
    assert.equal(await specs.get('nope'), undefined);
    jobs.state.fail = true;
    await assert.rejects(specs.get('j1'), /store down/);
    assert.deepEqual(await specs.get('j1'), spec);
    assert.deepEqual(jobs.reads, ['nope', 'nope', 'j1', 'j1']);
  });

  it('drops the least recently used spec beyond its capacity', async () => {
    const jobs = fakeJobs(['j1', 'j2', 'j3']);
    const specs = createJobSpecCache(jobs, 2);
    await specs.get('j1');
    await specs.get('j2');
    await specs.get('j1'); // j2 is now the least recently used
    await specs.get('j3');
    await specs.get('j1');
    await specs.get('j2');
    assert.deepEqual(jobs.reads, ['j1', 'j2', 'j3', 'j2']);
  });
});
