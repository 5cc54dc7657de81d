/** `flotilla users add|list|set-roles|disable` and `flotilla tokens create|list|revoke`. */
import type { Command } from 'commander';
import { z } from 'zod';
import { tokenSchema, userSchema } from '../access/access-schemas.ts';
import { roles, type Role } from '../access/permissions.ts';
import type { RoleBindingInput } from '../access/role-bindings.ts';
import { ValidationError } from '../infra/errors.ts';
import { ApiClient, defaultServerUrl } from './api-client.ts';
import { printTable } from './output.ts';
import { readPassword } from './password-prompt.ts';

interface Options {
  server: string;
  json: boolean;
}

const serverOption = ['--server <url>', 'management API URL (env FLOTILLA_URL)'] as const;
const roleHelp = `role, or role@fleet-query for a device scope (roles: ${roles.join(', ')}); repeat for several`;

/** `operator` or `operator@group = "eu-west"`. */
export function parseRoleOption(value: string, previous: RoleBindingInput[] = []): RoleBindingInput[] {
  const at = value.indexOf('@');
  const name = (at < 0 ? value : value.slice(0, at)).trim();
  const role = roles.find((known) => known === name);
  if (role === undefined)
    throw new ValidationError(`--role: unknown role ${JSON.stringify(name)} (one of ${roles.join(', ')})`);
  const where = at < 0 ? undefined : value.slice(at + 1).trim();
  return [...previous, where === undefined || where === '' ? { role } : { role: role satisfies Role, where }];
}

const describeRoles = (list: RoleBindingInput[]): string =>
  list.map((r) => (r.where === undefined ? r.role : `${r.role}@${r.where}`)).join(', ') || '-';

const print = (options: Options, value: unknown, text: string): void => {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
};

export function registerAccessCommands(program: Command): void {
  const users = program
    .command('users')
    .description('Management API users and their roles (needs users:admin)');
  users
    .command('add')
    .argument('<name>', 'user name, lower-case')
    .description('Create a user; the password is asked for, or read from FLOTILLA_PASSWORD')
    .option('--role <role>', roleHelp, parseRoleOption, [])
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, options: Options & { role: RoleBindingInput[] }) => {
      const password = await readPassword(`password for new user ${name}: `, process.env);
      const user = await new ApiClient(options.server).post('/api/v1/users', userSchema, {
        name,
        password,
        roles: options.role,
      });
      print(options, user, `user ${user.name} created (${describeRoles(user.roles)})`);
    });
  users
    .command('list')
    .description('Every user with roles')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (options: Options) => {
      const { items } = await new ApiClient(options.server).get(
        '/api/v1/users',
        z.object({ items: z.array(userSchema) }),
      );
      if (options.json) return print(options, { items }, '');
      printTable(
        ['NAME', 'ROLES', 'CREATED', 'DISABLED'],
        items.map((u) => [u.name, describeRoles(u.roles), u.createdAt, u.disabledAt ?? '']),
      );
    });
  users
    .command('set-roles')
    .argument('<name>', 'user name')
    .description("Replace a user's roles")
    .option('--role <role>', roleHelp, parseRoleOption, [])
    .option('--confirm', 'needed to take the admin role away', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, options: Options & { role: RoleBindingInput[]; confirm: boolean }) => {
      const user = await new ApiClient(options.server).put(
        `/api/v1/users/${encodeURIComponent(name)}/roles`,
        userSchema,
        {
          roles: options.role,
          ...(options.confirm ? { confirm: true } : {}),
        },
      );
      print(options, user, `user ${user.name}: ${describeRoles(user.roles)}`);
    });
  users
    .command('disable')
    .argument('<name>', 'user name')
    .description('Disable a user and revoke its sessions and tokens')
    .option('--confirm', 'needed to disable an admin', false)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, options: Options & { confirm: boolean }) => {
      const user = await new ApiClient(options.server).post(
        `/api/v1/users/${encodeURIComponent(name)}/disable`,
        userSchema,
        {
          ...(options.confirm ? { confirm: true } : {}),
        },
      );
      print(options, user, `user ${user.name} disabled`);
    });

  const tokens = program
    .command('tokens')
    .description('API tokens (your own; every user’s with users:admin)');
  tokens
    .command('create')
    .argument('<name>', 'token name (letters, digits, . _ -)')
    .description('Create an API token; its secret is printed once')
    .requiredOption(
      '--expires-in-days <days>',
      'lifetime in days (at most the server’s auth.tokenMaxLifetimeS)',
    )
    .option('--role <role>', `${roleHelp}; default: your own roles`, parseRoleOption)
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (name: string, options: Options & { expiresInDays: string; role?: RoleBindingInput[] }) => {
      const days = Number(options.expiresInDays);
      if (!Number.isFinite(days) || days <= 0)
        throw new ValidationError('--expires-in-days must be a positive number');
      const created = await new ApiClient(options.server).post(
        '/api/v1/tokens',
        z.object({ token: tokenSchema, secret: z.string() }),
        { name, expiresInS: Math.round(days * 86_400), ...(options.role ? { roles: options.role } : {}) },
      );
      print(
        options,
        created,
        `token ${created.token.id} (${created.token.name}) expires ${created.token.expiresAt}\n${created.secret}\n(shown once: use it as FLOTILLA_TOKEN or Authorization: Bearer)`,
      );
    });
  tokens
    .command('list')
    .description('API tokens, newest first')
    .option('--owner <user>', "another user's tokens (users:admin)")
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (options: Options & { owner?: string }) => {
      const { items } = await new ApiClient(options.server).get(
        '/api/v1/tokens',
        z.object({ items: z.array(tokenSchema) }),
        options.owner === undefined ? [] : [['owner', options.owner]],
      );
      if (options.json) return print(options, { items }, '');
      printTable(
        ['ID', 'NAME', 'OWNER', 'ROLES', 'EXPIRES', 'REVOKED', 'LAST USED'],
        items.map((t) => [
          t.id,
          t.name,
          t.owner,
          describeRoles(t.roles),
          t.expiresAt,
          t.revokedAt ?? '',
          t.lastUsedAt ?? '',
        ]),
      );
    });
  tokens
    .command('revoke')
    .argument('<id>', 'token id (tok_…)')
    .description('Revoke an API token')
    .option(...serverOption, defaultServerUrl(process.env))
    .option('--json', 'print JSON for scripts', false)
    .action(async (id: string, options: Options) => {
      const token = await new ApiClient(options.server).post(
        `/api/v1/tokens/${encodeURIComponent(id)}/revoke`,
        tokenSchema,
        {},
      );
      print(options, token, `token ${token.id} revoked`);
    });
}
