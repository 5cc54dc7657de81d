/** Row ↔ value mapping shared by the SQLite and PostgreSQL access stores. Pure. */
import { roles, type Role } from '../access/permissions.ts';
import type { BindingScope, RoleBinding } from './access-types.ts';

export interface BindingRow {
  user_name: string | null;
  token_id: string | null;
  role: string;
  scope: string | null;
}

function toRole(value: string): Role {
  const role = roles.find((known) => known === value);
  if (role === undefined) throw new Error(`role_bindings holds an unknown role ${JSON.stringify(value)}`);
  return role;
}

export const toBinding = (row: Pick<BindingRow, 'role' | 'scope'>): RoleBinding => ({
  role: toRole(row.role),
  scope: row.scope === null ? { kind: 'all' } : { kind: 'query', where: row.scope },
});

/** The `scope` column: NULL for every device. */
export const scopeColumn = (scope: BindingScope): string | null =>
  scope.kind === 'all' ? null : scope.where;

/** Bindings grouped by subject (user name or token id), in insertion order. */
export function bindingsBy(rows: BindingRow[], key: 'user_name' | 'token_id'): Map<string, RoleBinding[]> {
  const out = new Map<string, RoleBinding[]>();
  for (const row of rows) {
    const subject = row[key];
    if (subject === null) continue;
    const list = out.get(subject) ?? [];
    list.push(toBinding(row));
    out.set(subject, list);
  }
  return out;
}
