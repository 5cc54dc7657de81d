/**
 * Users, sessions, API tokens and role bindings of the management API (docs/access-control.md).
 * Implemented in sqlite/ and postgres/, checked by one contract suite (test/access/access-store.contract.ts).
 * Secrets are never stored: sessions and tokens are kept and found by the SHA-256 of their secret.
 */
import type { Role } from '../access/permissions.ts';

/** Where a role binding applies: every device, or the devices a fleet query selects. */
export type BindingScope = { kind: 'all' } | { kind: 'query'; where: string };

export interface RoleBinding {
  role: Role;
  scope: BindingScope;
}

export interface User {
  name: string;
  createdAt: string;
  /** When the user was disabled; null while enabled. */
  disabledAt: string | null;
  roles: RoleBinding[];
}

export interface UserRecord extends User {
  /** Self-describing scrypt string (access/passwords.ts). */
  passwordHash: string;
}

export interface SessionRecord {
  userName: string;
  createdAtMs: number;
  lastUsedAtMs: number;
  /** Absolute expiry, whatever the activity. */
  expiresAtMs: number;
  revokedAtMs: number | null;
}

export interface ApiToken {
  /** Public id (`tok_…`), for listing and revocation. */
  id: string;
  name: string;
  owner: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  roles: RoleBinding[];
}

export interface NewApiToken {
  id: string;
  name: string;
  owner: string;
  secretHash: string;
  expiresAtMs: number;
  roles: RoleBinding[];
}

export interface AccessStore {
  /** ConflictError when the name is taken. */
  createUser(
    user: { name: string; passwordHash: string; roles: RoleBinding[] },
    nowMs: number,
  ): Promise<User>;
  /** Undefined when unknown. */
  getUser(name: string): Promise<UserRecord | undefined>;
  /** Every user, by name. */
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  /** Replaces the user's role bindings. False when unknown. */
  setUserRoles(name: string, roles: RoleBinding[]): Promise<boolean>;
  /** Disables (revoking its sessions and tokens) or enables a user. False when unknown. */
  setUserDisabled(name: string, disabled: boolean, nowMs: number): Promise<boolean>;
  /** False when unknown. */
  setPasswordHash(name: string, passwordHash: string): Promise<boolean>;
  /** Deletes the user with its sessions, tokens and bindings. False when unknown. */
  deleteUser(name: string): Promise<boolean>;

  createSession(
    session: { idHash: string; userName: string; expiresAtMs: number },
    nowMs: number,
  ): Promise<void>;
  getSession(idHash: string): Promise<SessionRecord | undefined>;
  /** Records activity (idle expiry counts from it). */
  touchSession(idHash: string, nowMs: number): Promise<void>;
  /** False when unknown or already revoked. */
  revokeSession(idHash: string, nowMs: number): Promise<boolean>;

  /** ConflictError when the owner already has a token of that name. */
  createToken(token: NewApiToken, nowMs: number): Promise<ApiToken>;
  getToken(id: string): Promise<ApiToken | undefined>;
  getTokenByHash(secretHash: string): Promise<ApiToken | undefined>;
  /** Newest first; every owner's when `owner` is undefined. */
  listTokens(owner: string | undefined): Promise<ApiToken[]>;
  /** False when unknown or already revoked. */
  revokeToken(id: string, nowMs: number): Promise<boolean>;
  touchToken(id: string, nowMs: number): Promise<void>;
}
