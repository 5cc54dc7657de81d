/**
 * `flotilla login` / `flotilla logout`: log in with a password, create an expiring API token and
 * store it for the server (credentials.ts); logout revokes it and forgets it.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { z } from 'zod';
import { tokenSchema, whoAmISchema } from '../access/access-schemas.ts';
import { errorBodySchema } from '../api/error-mapping.ts';
import { ApiClient, ApiRequestError, defaultServerUrl } from './api-client.ts';
import { credentialsPath, forgetToken, storeToken, storedToken } from './credentials.ts';
import { readPassword } from './password-prompt.ts';

interface LoginOptions {
  server: string;
  user: string;
  expiresInDays: string;
  json: boolean;
}

async function post(
  url: URL,
  body: unknown,
  cookie?: string,
): Promise<{ response: Response; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) },
    body: JSON.stringify(body),
  });
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(json);
    throw new ApiRequestError(
      response.status,
      error.success ? error.data.error.code : 'http_error',
      error.success ? error.data.error.message : `HTTP ${response.status} from ${url.pathname}`,
    );
  }
  return { response, json };
}

export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description(
      'Log in to a server and store an expiring API token for it (0600, $XDG_CONFIG_HOME/flotilla)',
    )
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--user <name>', 'user name', process.env['FLOTILLA_USER'] ?? 'admin')
    .option(
      '--expires-in-days <days>',
      'token lifetime in days (at most the server’s auth.tokenMaxLifetimeS)',
      '30',
    )
    .option('--json', 'print JSON for scripts', false)
    .addHelpText('after', '\nThe password is asked for, or read from FLOTILLA_PASSWORD.\n')
    .action(async (options: LoginOptions) => {
      const days = Number(options.expiresInDays);
      if (!Number.isFinite(days) || days <= 0)
        throw new ApiRequestError(0, 'bad_option', '--expires-in-days must be a positive number');
      const password = await readPassword(`password for ${options.user} at ${options.server}: `, process.env);
      const login = await post(new URL('/api/v1/auth/login', options.server), {
        username: options.user,
        password,
      });
      const cookie = (login.response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const created = z.object({ token: tokenSchema, secret: z.string() }).parse(
        (
          await post(
            new URL('/api/v1/tokens', options.server),
            {
              name: `cli-${hostname()}-${Date.now()}`.slice(0, 64).replace(/[^A-Za-z0-9._-]/g, '-'),
              expiresInS: Math.round(days * 86_400),
            },
            cookie,
          )
        ).json,
      );
      await post(new URL('/api/v1/auth/logout', options.server), {}, cookie);
      const file = storeToken(
        options.server,
        {
          token: created.secret,
          tokenId: created.token.id,
          user: options.user,
          expiresAt: created.token.expiresAt,
        },
        process.env,
      );
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ user: options.user, token: created.token, credentials: file })}\n`,
        );
        return;
      }
      process.stdout.write(
        `logged in to ${options.server} as ${options.user}; token ${created.token.id} expires ${created.token.expiresAt} (stored in ${file})\n`,
      );
    });

  program
    .command('logout')
    .description('Revoke the stored API token of a server and forget it')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .action(async (options: { server: string }) => {
      const stored = storedToken(options.server, process.env);
      if (stored === undefined) {
        process.stdout.write(`not logged in to ${options.server} (${credentialsPath(process.env)})\n`);
        return;
      }
      try {
        await new ApiClient(options.server, stored.token).post(
          `/api/v1/tokens/${encodeURIComponent(stored.tokenId)}/revoke`,
          tokenSchema,
          {},
        );
      } catch (error) {
        // An expired or already revoked token is as good as revoked: forget it anyway.
        if (!(error instanceof ApiRequestError && error.status === 401)) throw error;
      }
      forgetToken(options.server, process.env);
      process.stdout.write(`logged out of ${options.server}\n`);
    });

  program
    .command('whoami')
    .description('Who the server takes you for: user, roles with scopes, permissions')
    .option('--server <url>', 'management API URL (env FLOTILLA_URL)', defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (options: { server: string; json: boolean }) => {
      const me = await new ApiClient(options.server).get('/api/v1/auth/me', whoAmISchema);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(me)}\n`);
        return;
      }
      const roles = me.roles
        .map((r) => (r.where === undefined ? r.role : `${r.role} on ${r.where}`))
        .join(', ');
      process.stdout.write(
        `${me.actor} (${roles || 'no roles'})\npermissions: ${me.permissions.join(' ')}\n`,
      );
    });
}
