/**
 * First start: with no user at all, create `admin` (role admin on every device) with a random
 * password, or FLOTILLA_ADMIN_PASSWORD, written to `<dataDir>/initial-admin-password` (0600) and
 * logged once. Later starts find users and do nothing.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { UserService } from './user-service.ts';
import type { AccessStore } from '../store/access-types.ts';

export const INITIAL_ADMIN = 'admin';
export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

export interface BootstrapResult {
  /** The admin's password when this start created it. */
  password: string;
  passwordFile: string;
}

export async function bootstrapAdmin(deps: {
  store: Pick<AccessStore, 'countUsers'>;
  users: UserService;
  dataDir: string;
  /** FLOTILLA_ADMIN_PASSWORD, when set. */
  presetPassword: string | undefined;
  logger: Logger;
}): Promise<BootstrapResult | undefined> {
  if ((await deps.store.countUsers()) > 0) return undefined;
  const preset = deps.presetPassword !== undefined && deps.presetPassword !== '';
  const password = preset ? (deps.presetPassword ?? '') : randomBytes(18).toString('base64url');
  await deps.users.create(
    { name: INITIAL_ADMIN, password, roles: [{ role: 'admin', scope: { kind: 'all' } }] },
    { actor: 'system', source: 'local' },
  );
  const passwordFile = join(deps.dataDir, INITIAL_PASSWORD_FILE);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  deps.logger.warn(
    preset ? { user: INITIAL_ADMIN, passwordFile } : { user: INITIAL_ADMIN, password, passwordFile },
    preset
      ? 'created the first user admin with FLOTILLA_ADMIN_PASSWORD'
      : 'created the first user admin with a random password (shown once here; change it with `flotilla login` then POST /api/v1/auth/password)',
  );
  return { password, passwordFile };
}
