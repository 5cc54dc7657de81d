/**
 * The permission matrix over real HTTP: every route of the running server (from its OpenAPI
 * document) × every role, unscoped and scoped to a group. A role lacking the route's permission
 * gets 403 naming it; a role holding it gets past the check (any status but 401/403).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rolePermissions, roles, type Role } from '../../src/access/permissions.ts';
import { startAuthServer, type AuthServer } from './auth-server.ts';
import { routeMatrix } from './route-matrix.ts';

interface Operation {
  method: string;
  path: string;
  operationId: string;
  permission: unknown;
}

function operationsOf(document: Record<string, unknown>): Operation[] {
  const paths = document['paths'] as Record<string, Record<string, Record<string, unknown>>>;
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      operationId: String(operation['operationId']),
      permission: operation['x-permission'],
    })),
  );
}

function requestPath(operation: Operation): string {
  const path = operation.path.replace(/\{[^}]+\}/g, 'matrix-none');
  const query = routeMatrix[operation.operationId]?.query;
  return query === undefined ? path : `${path}?${query}`;
}

describe('permission matrix', () => {
  let server: AuthServer;
  let operations: Operation[];
  const principals: Array<{ label: string; role: Role; token: string }> = [];

  before(async () => {
    server = await startAuthServer();
    const document = await server.call('GET', '/openapi.json');
    operations = operationsOf(document.body);
    for (const role of roles) {
      principals.push({ label: role, role, token: await server.userWithToken(`m-${role}`, role) });
      principals.push({
        label: `${role} of group eu-west`,
        role,
        token: await server.userWithToken(`m-${role}-eu`, role, 'group = "eu-west"'),
      });
    }
  });
  after(() => server.fx.close());

  it('every route declares a permission, and every route has exactly one matrix entry', () => {
    assert.ok(operations.length > 60, `${operations.length} operations`);
    for (const operation of operations) {
      assert.ok(
        typeof operation.permission === 'string',
        `${operation.operationId} (${operation.method} ${operation.path}) declares no permission`,
      );
      const entry = routeMatrix[operation.operationId];
      assert.ok(entry, `${operation.operationId} has no entry in test/access/route-matrix.ts`);
      assert.equal(operation.permission, entry.permission, `${operation.operationId}: permission`);
    }
    const known = new Set(operations.map((operation) => operation.operationId));
    for (const operationId of Object.keys(routeMatrix))
      assert.ok(known.has(operationId), `route-matrix.ts names ${operationId}, which no route has`);
  });

  it('public routes answer without credentials; the others answer 401 unauthorized', async () => {
    for (const operation of operations) {
      const entry = routeMatrix[operation.operationId];
      const answer = await server.call(operation.method, requestPath(operation), {
        ...(['POST', 'PUT', 'PATCH'].includes(operation.method) ? { body: entry?.body ?? {} } : {}),
      });
      const where = `${operation.operationId} without credentials: ${answer.status} ${JSON.stringify(answer.body)}`;
      if (entry?.permission === 'public') assert.ok(answer.status !== 401 && answer.status !== 403, where);
      else {
        assert.equal(answer.status, 401, where);
        assert.equal((answer.body['error'] as { code: string }).code, 'unauthorized', where);
      }
    }
  });

  it('each role gets 403 naming the permission exactly where it lacks it, and passes the check elsewhere', async () => {
    const failures: string[] = [];
    for (const operation of operations) {
      const entry = routeMatrix[operation.operationId];
      if (entry === undefined || entry.permission === 'public') continue;
      for (const principal of principals) {
        const granted = rolePermissions[principal.role].includes(entry.permission);
        const answer = await server.call(operation.method, requestPath(operation), {
          token: principal.token,
          ...(['POST', 'PUT', 'PATCH'].includes(operation.method) ? { body: entry.body ?? {} } : {}),
        });
        const error = answer.body['error'] as {
          code: string;
          message: string;
          details?: { missing?: unknown };
        };
        const where = `${operation.operationId} as ${principal.label}: ${answer.status} ${JSON.stringify(answer.body)}`;
        const scoped = principal.label.includes(' of group ');
        if (granted && scoped && entry.wholeFleet === true) {
          if (answer.status !== 403 || error.details?.missing !== `${entry.permission} on every device`)
            failures.push(`expected 403 naming ${entry.permission} on every device: ${where}`);
        } else if (granted) {
          if (answer.status === 401 || answer.status === 403)
            failures.push(`expected the check to pass: ${where}`);
        } else if (
          answer.status !== 403 ||
          error.code !== 'forbidden' ||
          error.details?.missing !== entry.permission ||
          !error.message.includes(entry.permission)
        ) {
          failures.push(`expected 403 naming ${entry.permission}: ${where}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
