/**
 * Parsed job specs by job id. A spec never changes once the job is stored (only the job's state
 * does), but reading one parses its JSON through the schema, and a `deviceIds` target holds up to
 * 10,000 ids: about 6 ms per read at that size. Every device report needs its job's spec, so the
 * status handler and the dispatcher read it here instead of with a `getJob` per message.
 */
import type { JobStore } from '../store/job-types.ts';
import type { JobSpec } from './job-spec.ts';

/**
 * Specs kept at once, least recently used out first: active jobs are few, and a spec with a full
 * `deviceIds` target is about 0.3 MB.
 */
const DEFAULT_CAPACITY = 32;

export interface JobSpecCache {
  /** The job's spec, or undefined when there is no such job. */
  get(jobId: string): Promise<JobSpec | undefined>;
}

export function createJobSpecCache(
  jobs: Pick<JobStore, 'getJob'>,
  capacity = DEFAULT_CAPACITY,
): JobSpecCache {
  // Promises, so the reports arriving together for a new job share one read.
  const specs = new Map<string, Promise<JobSpec | undefined>>();
  return {
    get(jobId) {
      const cached = specs.get(jobId);
      if (cached !== undefined) {
        specs.delete(jobId);
        specs.set(jobId, cached);
        return cached;
      }
      const read = jobs.getJob(jobId).then((job) => job?.spec);
      specs.set(jobId, read);
      // An unknown job or a failed read is not kept: the next call reads again.
      read.then(
        (spec) => {
          if (spec === undefined && specs.get(jobId) === read) specs.delete(jobId);
        },
        () => {
          if (specs.get(jobId) === read) specs.delete(jobId);
        },
      );
      if (specs.size > capacity) {
        const oldest = specs.keys().next().value;
        if (oldest !== undefined) specs.delete(oldest);
      }
      return read;
    },
  };
}
