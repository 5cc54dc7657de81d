/**
 * Handlers for signed update metadata on the device HTTPS API, authenticated like artifact
 * downloads. A device's TUF client uses `metadataBaseUrl = <deviceHttpUrl>/device/v1/tuf` and
 * `targetBaseUrl = <deviceHttpUrl>/device/v1/tuf/targets`:
 *
 *   GET /device/v1/tuf/{root.json | N.root.json | N.targets.json | N.snapshot.json | timestamp.json}
 *   GET /device/v1/tuf/targets/{sha256}.{name}   bytes from the artifact store (Range, ETag, limit)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadReply, DownloadRequest } from '../../ota/delivery/artifact-downloads.ts';
import { metadataFile, targetFile } from '../../ota/delivery/tuf-files.ts';
import type { UpdateRepository } from '../../ota/metadata/update-repository.ts';

export interface TufRouteDeps {
  repository: UpdateRepository;
  downloads: { serve(request: DownloadRequest, reply: DownloadReply): Promise<DownloadReply> };
  /** Undefined when the request may read `subject`, else why not. */
  refusal(request: Omit<DownloadRequest, 'params'>, subject: string): string | undefined;
}

type TufRequest = Omit<DownloadRequest, 'params'> & { params: { file: string } };

const notFound = (reply: DownloadReply, what: string): DownloadReply =>
  reply.status(404).send({ error: { code: 'not_found', message: `no ${what}` } });

export function tufRouteHandlers(deps: TufRouteDeps): {
  metadata(request: TufRequest, reply: DownloadReply): Promise<DownloadReply>;
  target(request: TufRequest, reply: DownloadReply): Promise<DownloadReply>;
} {
  return {
    async metadata(request, reply) {
      const file = metadataFile(request.params.file);
      const why = deps.refusal(request, `tuf/${request.params.file}`);
      if (why !== undefined) return reply.status(401).send({ error: { code: 'unauthorized', message: why } });
      if (!file) return notFound(reply, 'such metadata file');
      let bytes: Buffer;
      try {
        bytes = await readFile(join(deps.repository.dir, file.name));
      } catch {
        return notFound(reply, `metadata file ${file.name}`);
      }
      return reply.header('cache-control', file.cacheControl).type('application/json').send(bytes);
    },
    async target(request, reply) {
      const file = targetFile(request.params.file);
      // Only what the current targets metadata lists is served (a patch or image is not a
      // target until it is signed in); the artifact handler does the rest, auth included.
      if (!file || !(await deps.repository.hasTarget(file.name, file.sha256))) {
        const why = deps.refusal(request, file?.sha256 ?? '');
        if (why !== undefined)
          return reply.status(401).send({ error: { code: 'unauthorized', message: why } });
        return notFound(reply, 'such target');
      }
      // Fastify's request fields are prototype getters, so they are copied one by one.
      const { query, headers, raw } = request;
      return deps.downloads.serve({ params: { sha256: file.sha256 }, query, headers, raw }, reply);
    },
  };
}
