/** A small typed client of the management API for the CLI; responses are validated by the API's own schemas. */
import type { z } from 'zod';
import { errorBodySchema } from '../api/error-mapping.ts';
import { UnavailableError } from '../infra/errors.ts';
import { tokenFor } from './credentials.ts';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export class ApiClient {
  readonly #authorization: Record<string, string>;

  /** `token` defaults to `--token` / FLOTILLA_TOKEN, then the one `flotilla login` stored for the server. */
  constructor(
    private readonly baseUrl: string,
    token: string | undefined = tokenFor(baseUrl, process.env),
  ) {
    this.#authorization = token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  get<T extends z.ZodType>(
    path: string,
    schema: T,
    query: Array<[string, string]> = [],
  ): Promise<z.output<T>> {
    return this.json('GET', path, schema, undefined, query);
  }

  post<T extends z.ZodType>(path: string, schema: T, body: unknown): Promise<z.output<T>> {
    return this.json('POST', path, schema, body);
  }

  put<T extends z.ZodType>(path: string, schema: T, body: unknown): Promise<z.output<T>> {
    return this.json('PUT', path, schema, body);
  }

  patch<T extends z.ZodType>(path: string, schema: T, body: unknown): Promise<z.output<T>> {
    return this.json('PATCH', path, schema, body);
  }

  delete<T extends z.ZodType>(
    path: string,
    schema: T,
    query: Array<[string, string]> = [],
  ): Promise<z.output<T>> {
    return this.json('DELETE', path, schema, undefined, query);
  }

  /** Streams a binary body (PUT, application/octet-stream) and parses the JSON answer. */
  async upload<T extends z.ZodType>(
    path: string,
    schema: T,
    body: ReadableStream<Uint8Array>,
    size: number,
  ): Promise<z.output<T>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method: 'PUT',
        headers: {
          ...this.#authorization,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          accept: 'application/json',
        },
        body,
        duplex: 'half',
      });
    } catch (err) {
      throw new UnavailableError(
        `cannot reach the Flotilla server at ${this.baseUrl}: ${(err as Error).message}`,
      );
    }
    if (!response.ok) await this.fail(response, path);
    const parsed = schema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new ApiRequestError(response.status, 'bad_response', `unexpected response from ${path}`);
    return parsed.data;
  }

  /** A non-JSON resource (PEM, SVG, PNG) as bytes. */
  async raw(path: string, query: Array<[string, string]> = []): Promise<Buffer> {
    const response = await this.send('GET', path, undefined, query);
    if (!response.ok) await this.fail(response, path);
    return Buffer.from(await response.arrayBuffer());
  }

  /** A non-JSON resource as a byte stream, for downloads too large to hold (exports). */
  async stream(path: string, query: Array<[string, string]> = []): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send('GET', path, undefined, query);
    if (!response.ok) await this.fail(response, path);
    if (response.body === null)
      throw new ApiRequestError(response.status, 'bad_response', `empty body from ${path}`);
    return response.body;
  }

  private async json<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T,
    body: unknown,
    query: Array<[string, string]> = [],
  ): Promise<z.output<T>> {
    const response = await this.send(method, path, body, query);
    if (!response.ok) await this.fail(response, path);
    const parsed = schema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new ApiRequestError(
        response.status,
        'bad_response',
        `unexpected response from ${path}: ${parsed.error.message}`,
      );
    return parsed.data;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    query: Array<[string, string]>,
  ): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of query) url.searchParams.append(key, value);
    try {
      return await fetch(url, {
        method,
        headers:
          body === undefined
            ? { ...this.#authorization, accept: 'application/json' }
            : { ...this.#authorization, accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message;
      throw new UnavailableError(`cannot reach the Flotilla server at ${this.baseUrl}: ${cause}`);
    }
  }

  private async fail(response: Response, path: string): Promise<never> {
    const parsed = errorBodySchema.safeParse(await response.json().catch(() => undefined));
    if (parsed.success)
      throw new ApiRequestError(response.status, parsed.data.error.code, parsed.data.error.message);
    throw new ApiRequestError(response.status, 'http_error', `HTTP ${response.status} from ${path}`);
  }
}

export function defaultServerUrl(env: NodeJS.ProcessEnv): string {
  return env['FLOTILLA_URL'] ?? 'http://127.0.0.1:8080';
}
