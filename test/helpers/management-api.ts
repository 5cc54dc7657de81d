/** A small client for the management API of a server on `127.0.0.1:httpPort`, shared by the e2e helpers. */
import { createHash } from 'node:crypto';

export interface ManagementApi {
  /** GET `path`, typed by the caller. */
  api<T>(path: string): Promise<{ status: number; body: T }>;
  /** Any management API call: a Buffer body is sent as an octet stream, anything else as JSON. */
  request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Uploads `image` and publishes it as `model@version` (every revision); throws unless both succeed. */
  publishRelease(model: string, version: string, image: Buffer): Promise<void>;
}

export function managementApi(httpPort: number): ManagementApi {
  const base = `http://127.0.0.1:${httpPort}`;
  const client: ManagementApi = {
    async api<T>(path: string) {
      const response = await fetch(`${base}${path}`);
      return { status: response.status, body: (await response.json()) as T };
    },
    async request(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : Buffer.isBuffer(body)
            ? { headers: { 'content-type': 'application/octet-stream' }, body }
            : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async publishRelease(model, version, image) {
      const uploaded = await client.request('PUT', '/api/v1/firmware/artifacts', image);
      if (uploaded.status !== 201) throw new Error(`upload failed: ${JSON.stringify(uploaded.body)}`);
      const sha256 = createHash('sha256').update(image).digest('hex');
      const published = await client.request('POST', '/api/v1/firmware/releases', {
        version,
        hardwareModel: model,
        sha256,
      });
      if (published.status !== 201) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
    },
  };
  return client;
}
