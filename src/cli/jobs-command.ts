/** `flotilla jobs create|list|show|executions|cancel|cancel-all|logs`: remote jobs from the shell. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { createdSchema, executionSchema, jobSchema, jobViewSchema } from '../api/routes/jobs.ts';
import { jobOperations } from '../contracts/job-messages.ts';
import { finalJobStates } from '../jobs/job-states.ts';
import { ValidationError } from '../infra/errors.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';
import { createProgressBar } from './progress.ts';

interface CommonFlags {
  server: string;
  json: boolean;
}

interface CreateFlags extends CommonFlags {
  operation: string;
  command?: string;
  params?: string;
  device: string[];
  where?: string;
  group?: string;
  startAt?: string;
  expiresAt?: string;
  timeoutS?: string;
  maxRetries?: string;
  retryBackoffS?: string;
  rate?: string;
  abortAfterFailedPercent?: string;
  minFinished?: string;
  description?: string;
  confirm: boolean;
  dryRun: boolean;
  wait: boolean;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;
const WAIT_POLL_MS = 1000;

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed))
    throw new ValidationError(`${name}: ${JSON.stringify(value)} is not a number`);
  return parsed;
}

function timeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new ValidationError(`${name}: ${JSON.stringify(value)} is not an ISO 8601 time`);
  return ms;
}

/** The request body from the flags; the server validates it and names a bad field. */
export function jobBodyOf(flags: CreateFlags): Record<string, unknown> {
  let params: unknown;
  if (flags.params !== undefined) {
    try {
      params = JSON.parse(flags.params) as unknown;
    } catch (err) {
      throw new ValidationError(`--params: not JSON: ${(err as Error).message}`);
    }
  }
  const target =
    flags.device.length > 0
      ? { deviceIds: flags.device }
      : {
          ...(flags.where !== undefined && { where: flags.where }),
          ...(flags.group !== undefined && { group: flags.group }),
        };
  const optional: Record<string, unknown> = {
    command: flags.command,
    params,
    description: flags.description,
    startAtMs: timeFlag('--start-at', flags.startAt),
    expiresAtMs: timeFlag('--expires-at', flags.expiresAt),
    timeoutS: numberFlag('--timeout-s', flags.timeoutS),
    maxRetries: numberFlag('--max-retries', flags.maxRetries),
    retryBackoffS: numberFlag('--retry-backoff-s', flags.retryBackoffS),
    rateLimitPerMinute: numberFlag('--rate', flags.rate),
    abortAfterFailedPercent: numberFlag('--abort-after-failed-percent', flags.abortAfterFailedPercent),
    minFinished: numberFlag('--min-finished', flags.minFinished),
  };
  return {
    operation: flags.operation,
    target,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    ...(flags.confirm && { confirm: true }),
    ...(flags.dryRun && { dryRun: true }),
  };
}

const countsText = (counts: Record<string, number | undefined>): string =>
  Object.entries(counts)
    .map(([state, n]) => `${state} ${n ?? 0}`)
    .join(', ') || 'none';

/** Polls the job until it is final, drawing finished/total; returns the last view. */
async function waitForJob(
  client: ApiClient,
  id: string,
  total: number,
): Promise<z.output<typeof jobViewSchema>> {
  const bar = createProgressBar(total, 'executions finished');
  for (;;) {
    const view = await client.get(`/api/v1/jobs/${encodeURIComponent(id)}`, jobViewSchema);
    const c = view.counts;
    const done = (c.succeeded ?? 0) + (c.failed ?? 0) + (c['timed-out'] ?? 0) + (c.cancelled ?? 0);
    if (finalJobStates.includes(view.job.state)) {
      bar.finish(done);
      return view;
    }
    bar.update(done);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}

export function registerJobsCommand(program: Command): void {
  const jobs = program
    .command('jobs')
    .description(
      'Remote jobs: reboot, factory reset, recovery, logs, self-test, sensors or a custom command',
    );

  jobs
    .command('create')
    .description('Run an operation on devices (the device set is fixed when the job is created)')
    .requiredOption('--operation <op>', `one of ${jobOperations.join(', ')}`)
    .option('--command <name>', 'for --operation command: the command the device registered')
    .option('--params <json>', 'parameters as a JSON object, e.g. \'{"graceS":5}\'')
    .option('--device <id>', 'target this device (repeat)', collect, [])
    .option('--where <query>', 'target the devices this fleet query matches (docs/fleet-query.md)')
    .option('--group <name>', 'target the devices of this saved group')
    .option('--start-at <time>', 'start later (ISO 8601)')
    .option('--expires-at <time>', 'devices that did not take it by then time out as expired (ISO 8601)')
    .option('--timeout-s <seconds>', 'seconds one attempt may take (default 300)')
    .option('--max-retries <n>', 'further attempts after a timeout or failure (default 0)')
    .option('--retry-backoff-s <seconds>', 'delay before the first retry, doubling after (default 30)')
    .option('--rate <n>', 'executions sent per minute (default 1000)')
    .option('--abort-after-failed-percent <p>', 'abort when more than p% of finished executions failed')
    .option('--min-finished <n>', '…once at least n executions finished (default 10)')
    .option('--description <text>', 'a note for the job list')
    .option('--confirm', 'confirm a dangerous operation (factory-reset)', false)
    .option('--dry-run', 'only count the devices and how many cannot run it; create nothing', false)
    .option('--wait', 'wait until the job finished, with a progress bar', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print the result as JSON for scripts', false)
    .addHelpText(
      'after',
      '\nExamples:\n  flotilla jobs create --operation reboot --device dev-1 --device dev-2\n' +
        '  flotilla jobs create --operation self-test --where \'region = "eu-west"\' --rate 100 --abort-after-failed-percent 20 --wait\n' +
        '  flotilla jobs create --operation command --command restart-app --params \'{"graceS":5}\' --group kiosks --dry-run\n' +
        '  flotilla jobs create --operation factory-reset --device dev-9 --confirm',
    )
    .action(async (flags: CreateFlags) => {
      const client = new ApiClient(flags.server);
      const created = await client.post('/api/v1/jobs', createdSchema, jobBodyOf(flags));
      if (created.dryRun) {
        if (flags.json) return printJson(created.result);
        const r = created.result;
        process.stdout.write(
          `dry run: ${r.devices} device(s); ${r.unsupported} cannot run it, ${r.capabilitiesUnknown} never reported capabilities\n`,
        );
        for (const id of r.sample) process.stdout.write(`  ${id}\n`);
        if (r.devices > r.sample.length)
          process.stdout.write(`  … and ${r.devices - r.sample.length} more\n`);
        return;
      }
      const job = created.job;
      if (!flags.wait) {
        if (flags.json) return printJson(job);
        process.stdout.write(
          `job ${job.id}: ${job.spec.operation} on ${job.deviceCount} device(s), ${job.state}\n`,
        );
        return;
      }
      const view = await waitForJob(client, job.id, job.deviceCount);
      if (flags.json) return printJson(view);
      process.stdout.write(`job ${job.id} ${view.job.state}: ${countsText(view.counts)}\n`);
      if (view.job.reason !== null) process.stdout.write(`reason: ${view.job.reason}\n`);
      if (view.job.state !== 'completed' || (view.counts.failed ?? 0) + (view.counts['timed-out'] ?? 0) > 0)
        process.exitCode = 1;
    });

  jobs
    .command('list')
    .description('Jobs, newest first')
    .option(
      '--state <state>',
      'only jobs in this state (scheduled, in-progress, completed, aborted, cancelled)',
    )
    .option('--operation <op>', 'only jobs of this operation')
    .option('--limit <n>', 'page size', '100')
    .option('--cursor <cursor>', 'nextCursor of the previous page')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(
      async (flags: CommonFlags & { state?: string; operation?: string; limit: string; cursor?: string }) => {
        const query: Array<[string, string]> = [['limit', flags.limit]];
        if (flags.state !== undefined) query.push(['state', flags.state]);
        if (flags.operation !== undefined) query.push(['operation', flags.operation]);
        if (flags.cursor !== undefined) query.push(['cursor', flags.cursor]);
        const page = await new ApiClient(flags.server).get(
          '/api/v1/jobs',
          z.object({ items: z.array(jobSchema), nextCursor: z.string().optional() }),
          query,
        );
        if (flags.json) return printJson(page);
        printTable(
          ['JOB', 'OPERATION', 'STATE', 'DEVICES', 'CREATED BY', 'CREATED'],
          page.items.map((j) => [
            j.id,
            j.spec.command === undefined ? j.spec.operation : `command ${j.spec.command}`,
            j.state,
            String(j.deviceCount),
            j.createdBy,
            new Date(j.createdAtMs).toISOString(),
          ]),
        );
        if (page.nextCursor !== undefined) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
      },
    );

  jobs
    .command('show')
    .description('One job: spec, state and executions per state')
    .argument('<id>', 'job id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const view = await new ApiClient(flags.server).get(
        `/api/v1/jobs/${encodeURIComponent(id)}`,
        jobViewSchema,
      );
      if (flags.json) return printJson(view);
      const j = view.job;
      process.stdout.write(
        `${j.id}  ${j.spec.operation}${j.spec.command === undefined ? '' : ` ${j.spec.command}`}  ${j.state}  ${j.deviceCount} device(s)\n` +
          `${j.reason === null ? '' : `reason: ${j.reason}\n`}executions: ${countsText(view.counts)}\n` +
          `timeout ${j.spec.timeoutS}s, retries ${j.spec.maxRetries}, rate ${j.spec.rateLimitPerMinute}/min` +
          `${j.spec.abortAfterFailedPercent === undefined ? '' : `, abort past ${j.spec.abortAfterFailedPercent}% failed of ${j.spec.minFinished}+`}\n`,
      );
    });

  jobs
    .command('executions')
    .description("A job's executions by device")
    .argument('<id>', 'job id')
    .option('--state <state>', 'only executions in this state')
    .option('--limit <n>', 'page size', '100')
    .option('--cursor <cursor>', 'nextCursor of the previous page')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags & { state?: string; limit: string; cursor?: string }) => {
      const query: Array<[string, string]> = [['limit', flags.limit]];
      if (flags.state !== undefined) query.push(['state', flags.state]);
      if (flags.cursor !== undefined) query.push(['cursor', flags.cursor]);
      const page = await new ApiClient(flags.server).get(
        `/api/v1/jobs/${encodeURIComponent(id)}/executions`,
        z.object({ items: z.array(executionSchema), nextCursor: z.string().optional() }),
        query,
      );
      if (flags.json) return printJson(page);
      printTable(
        ['DEVICE', 'STATE', 'ATTEMPT', 'CODE', 'MESSAGE'],
        page.items.map((e) => [e.deviceId, e.state, String(e.attempt), e.code ?? '', e.message ?? '']),
      );
      if (page.nextCursor !== undefined) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    });

  jobs
    .command('cancel')
    .description('Cancel a job: queued and sent executions are cancelled, running ones finish')
    .argument('<id>', 'job id')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, flags: CommonFlags) => {
      const view = await new ApiClient(flags.server).post(
        `/api/v1/jobs/${encodeURIComponent(id)}/cancel`,
        jobViewSchema,
        {},
      );
      if (flags.json) return printJson(view);
      process.stdout.write(`job ${id} ${view.job.state}: ${countsText(view.counts)}\n`);
    });

  jobs
    .command('cancel-all')
    .description('Cancel every scheduled or in-progress job (needs --confirm)')
    .option('--confirm', 'yes, cancel them all', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (flags: CommonFlags & { confirm: boolean }) => {
      const result = await new ApiClient(flags.server).post(
        '/api/v1/jobs/cancel-all',
        z.object({ cancelled: z.array(z.string()) }),
        flags.confirm ? { confirm: true } : {},
      );
      if (flags.json) return printJson(result);
      process.stdout.write(`cancelled ${result.cancelled.length} job(s)\n`);
      for (const id of result.cancelled) process.stdout.write(`  ${id}\n`);
    });

  jobs
    .command('logs')
    .description('Download the gzip log bundle a device uploaded for a logs job')
    .argument('<id>', 'job id')
    .argument('<device>', 'device id')
    .option('--out <file>', 'where to write it (default <job>-<device>.log.gz)')
    .option(...serverOption, defaultServerUrl(process.env))
    .action(async (id: string, deviceId: string, flags: { server: string; out?: string }) => {
      const bytes = await new ApiClient(flags.server).raw(
        `/api/v1/jobs/${encodeURIComponent(id)}/executions/${encodeURIComponent(deviceId)}/logs`,
      );
      const out = flags.out ?? `${id}-${deviceId}.log.gz`;
      await writeFile(out, bytes);
      process.stdout.write(`wrote ${bytes.length} bytes to ${out}\n`);
    });
}
