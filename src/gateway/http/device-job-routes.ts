/**
 * `PUT /device/v1/jobs/{executionId}/logs`: a device uploads the gzip log bundle of its own `logs`
 * execution. The body streams to the handler unparsed (any content type) in its own Fastify
 * scope; a declared Content-Length past MAX_LOG_BUNDLE_BYTES is refused before reading.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from '../../api/error-mapping.ts';
import { MAX_LOG_BUNDLE_BYTES } from '../../contracts/job-messages.ts';
import { PayloadTooLargeError } from '../../infra/errors.ts';
import type { DeviceIdentity } from '../session-identity.ts';

export interface JobLogUploads {
  /** NotFoundError unless it is the device's own `logs` execution. */
  uploadLogs(deviceId: string, executionId: string, body: Readable): Promise<{ bytes: number }>;
}

/** The route as a Fastify plugin: `app.register(jobLogRoutes(…))`. */
export function jobLogRoutes(deps: {
  uploads: JobLogUploads;
  deviceOf(request: FastifyRequest, reply: FastifyReply): DeviceIdentity | FastifyReply;
}): FastifyPluginCallback {
  return (scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { executionId: string } }>(
      '/device/v1/jobs/:executionId/logs',
      async (request, reply) => {
        const device = deps.deviceOf(request, reply);
        if (!('deviceId' in device)) return device;
        try {
          const declared = Number(request.headers['content-length']);
          if (Number.isFinite(declared) && declared > MAX_LOG_BUNDLE_BYTES)
            throw new PayloadTooLargeError(`the log bundle exceeds ${MAX_LOG_BUNDLE_BYTES} bytes`, {
              limit: MAX_LOG_BUNDLE_BYTES,
            });
          const stored = await deps.uploads.uploadLogs(
            device.deviceId,
            request.params.executionId,
            request.body as Readable,
          );
          return await reply.status(201).send(stored);
        } catch (error) {
          const mapped = toErrorResponse(error);
          if (mapped.status >= 500) request.log.error({ err: error }, 'storing a log bundle failed');
          // The rest of a refused body is not read: close the connection instead of draining it.
          if (mapped.status === 413) void reply.header('connection', 'close');
          return reply.status(mapped.status).send(mapped.body);
        }
      },
    );
    done();
  };
}
