/** A small typed client of the management API for the CLI; responses are validated by the API's own schemas. */
import type { z } from 'zod';
import { errorBodySchema } from '../api/error-mapping.ts';
import { UnavailableError } from '../infra/errors.ts';

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
  constructor(private readonly baseUrl: string) {}

  async get<T extends z.ZodType>(
    path: string,
    schema: T,
    query: Array<[string, string]> = [],
  ): Promise<z.output<T>> {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of query) url.searchParams.append(key, value);
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      throw new UnavailableError(
        `cannot reach the Flotilla server at ${this.baseUrl}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const parsed = errorBodySchema.safeParse(body);
      if (parsed.success)
        throw new ApiRequestError(response.status, parsed.data.error.code, parsed.data.error.message);
      throw new ApiRequestError(
        response.status,
        'http_error',
        `HTTP ${response.status} from ${url.pathname}`,
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new ApiRequestError(
        response.status,
        'bad_response',
        `unexpected response from ${url.pathname}: ${parsed.error.message}`,
      );
    return parsed.data;
  }
}

export function defaultServerUrl(env: NodeJS.ProcessEnv): string {
  return env['FLOTILLA_URL'] ?? 'http://127.0.0.1:8080';
}
