/** Remote job routes of the management API (issue 8): create, read and cancel jobs; log bundles. */
import { z } from 'zod';
import { confirmField } from '../../access/confirmation.ts';
import { jobOperations } from '../../contracts/job-messages.ts';
import type { JobService } from '../../jobs/job-service.ts';
import { jobCreateSchema, jobSpecSchema } from '../../jobs/job-spec.ts';
import { executionStates, jobStates } from '../../jobs/job-states.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

const msOrNull = z.number().int().nullable();

export const jobSchema = z.object({
  id: z.string(),
  spec: jobSpecSchema,
  state: z.enum(jobStates),
  reason: z.string().nullable().describe('Why it was aborted or cancelled'),
  createdBy: z.string(),
  deviceCount: z.number().int(),
  createdAtMs: z.number().int(),
  updatedAtMs: z.number().int(),
  startedAtMs: msOrNull,
  finishedAtMs: msOrNull,
});

export const executionSchema = z.object({
  id: z.string(),
  jobId: z.string(),
  deviceId: z.string(),
  state: z.enum(executionStates),
  attempt: z.number().int().describe('Attempts sent so far'),
  code: z.string().nullable(),
  message: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  sentAtMs: msOrNull,
  deadlineMs: msOrNull,
  notBeforeMs: msOrNull,
  logFile: z.string().nullable(),
  logBytes: z.number().int().nullable(),
  createdAtMs: z.number().int(),
  updatedAtMs: z.number().int(),
  finishedAtMs: msOrNull,
});

export const countsSchema = z
  .partialRecord(z.enum(executionStates), z.number().int())
  .describe('Executions per state; states with none are absent');

export const jobViewSchema = z.object({ job: jobSchema, counts: countsSchema });

export const dryRunSchema = z.object({
  dryRun: z.literal(true),
  result: z.object({
    devices: z.number().int(),
    sample: z.array(z.string()).describe('The first 20 device ids'),
    unsupported: z.number().int().describe('Devices whose capabilities lack the operation or command'),
    capabilitiesUnknown: z.number().int().describe('Devices that never reported capabilities'),
  }),
});

export const createdSchema = z.union([dryRunSchema, z.object({ dryRun: z.literal(false), job: jobSchema })]);

const idParams = z.strictObject({ id: z.string().min(1).max(128) });
const page = {
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Page size, 1-1000'),
  cursor: z.string().min(1).optional().describe('nextCursor of the previous page'),
};

export function jobRoutes(deps: { service: JobService }): ApiRoute[] {
  const { service } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/jobs',
      operationId: 'createJob',
      summary: 'Run an operation on the target devices (a snapshot taken now); dryRun only counts',
      tag: 'jobs',
      permission: 'jobs:write',
      body: jobCreateSchema,
      response: createdSchema,
      status: 201,
      errors: [400, 428],
      handler: ({ body, principal, source }) => service.create(body, principal, source),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/jobs',
      operationId: 'listJobs',
      summary: 'Jobs, newest first',
      tag: 'jobs',
      permission: 'jobs:read',
      query: z.strictObject({
        state: z.enum(jobStates).optional(),
        operation: z.enum(jobOperations).optional(),
        createdBy: z.string().min(1).optional(),
        ...page,
      }),
      response: z.object({ items: z.array(jobSchema), nextCursor: z.string().optional() }),
      errors: [400],
      handler: ({ query }) => {
        const { limit, cursor, ...filter } = query;
        return service.list(filter, { limit, cursor });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/jobs/cancel-all',
      operationId: 'cancelAllJobs',
      summary: 'Cancel every scheduled or in-progress job (needs "confirm": true)',
      tag: 'jobs',
      permission: 'jobs:write',
      body: z.strictObject({ confirm: confirmField }).prefault({}),
      response: z.object({ cancelled: z.array(z.string()) }),
      errors: [428],
      handler: ({ body, principal, source }) => service.cancelAll(body.confirm, principal, source),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/jobs/{id}',
      operationId: 'getJob',
      summary: 'A job and its executions per state',
      tag: 'jobs',
      permission: 'jobs:read',
      params: idParams,
      response: jobViewSchema,
      errors: [404],
      handler: ({ params }) => service.show(params.id),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/jobs/{id}/executions',
      operationId: 'listJobExecutions',
      summary: "A job's executions by device id",
      tag: 'jobs',
      permission: 'jobs:read',
      params: idParams,
      query: z.strictObject({ state: z.enum(executionStates).optional(), ...page }),
      response: z.object({ items: z.array(executionSchema), nextCursor: z.string().optional() }),
      errors: [400, 404],
      handler: ({ params, query }) =>
        service.executions(params.id, query.state === undefined ? {} : { state: query.state }, {
          limit: query.limit,
          cursor: query.cursor,
        }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/jobs/{id}/cancel',
      operationId: 'cancelJob',
      summary: 'Cancel a job: its queued and sent executions are cancelled (409 when already finished)',
      tag: 'jobs',
      permission: 'jobs:write',
      params: idParams,
      response: jobViewSchema,
      errors: [404, 409],
      handler: ({ params, principal, source }) => service.cancel(params.id, principal, source),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/jobs/{id}/executions/{deviceId}/logs',
      operationId: 'downloadJobLogs',
      summary: 'The gzip log bundle a device uploaded for a logs job',
      tag: 'jobs',
      permission: 'jobs:read',
      params: z.strictObject({ id: z.string().min(1).max(128), deviceId: z.string().min(1).max(128) }),
      response: z.unknown(),
      produces: ['application/gzip'],
      errors: [404],
      handler: async ({ params, principal }) => {
        const logs = await service.readLogs(params.id, params.deviceId, principal);
        return { contentType: 'application/gzip', body: logs.body, filename: logs.filename };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}/jobs',
      operationId: 'listDeviceJobs',
      summary: "A device's job executions, newest job first",
      tag: 'jobs',
      permission: 'jobs:read',
      params: idParams,
      query: z.strictObject({ limit: page.limit }),
      response: z.object({ items: z.array(executionSchema) }),
      errors: [404],
      handler: async ({ params, query, principal }) => ({
        items: await service.deviceJobs(params.id, principal, query.limit),
      }),
    }),
  ];
}
