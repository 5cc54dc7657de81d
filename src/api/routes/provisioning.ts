/** Provisioning routes of the management API: factory batches, certificates, revocation, owners, audit, CRL. */
import { z } from 'zod';
import { deviceSchema } from '../../contracts/device.ts';
import { provisionResponseSchema } from '../../contracts/provisioning-messages.ts';
import { NotFoundError } from '../../infra/errors.ts';
import type { FleetPki } from '../../pki/fleet-pki.ts';
import type { Clock } from '../../infra/clock.ts';
import { createBatchSchema, type FactoryService } from '../../provisioning/factory-service.ts';
import type { RevocationService } from '../../provisioning/revocation.ts';
import { normalizeClaimCode } from '../../provisioning/secrets.ts';
import type { ProvisioningStore } from '../../store/provisioning-types.ts';
import type { DeviceStore } from '../../store/types.ts';
import { renderLabel } from '../../provisioning/label.ts';
import type { DeviceScope } from '../device-scope.ts';
import { PUBLIC, defineRoute, type ApiRoute } from '../route.ts';
import { auditRoutes } from './audit.ts';

export { auditPageSchema } from './audit.ts';

const batchSchema = z.object({
  id: z.string(),
  hardwareModel: z.string(),
  hardwareRevision: z.string(),
  claimLimit: z.number().int(),
  claimUses: z.number().int(),
  claimExpiresAt: z.string(),
  claimCertificateSerial: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  expected: z.number().int(),
  provisioned: z.number().int(),
});

export const batchCredentialSchema = z.object({
  batch: batchSchema,
  claim: z.object({ certificatePem: z.string(), keyPem: z.string() }),
  caChainPem: z.string(),
  devices: z.array(z.object({ serial: z.string(), deviceId: z.string(), claimCode: z.string() })),
  endpoints: z.object({ mqttUrl: z.string(), httpsUrl: z.string() }),
});

const certificateSchema = z.object({
  serial: z.string(),
  deviceId: z.string(),
  fingerprint256: z.string(),
  issuedAt: z.string(),
  notAfter: z.string(),
  revokedAt: z.string().nullable(),
  revocationReason: z.string().nullable(),
});

export const revokeResultSchema = z.object({
  revokedCertificates: z.array(z.string()),
  disconnected: z.boolean(),
});

const deviceIdParams = z.strictObject({ id: z.string().min(1).max(128) });
const ownerSchema = z.string().min(1).max(256);

export interface ProvisioningRouteDeps {
  store: ProvisioningStore;
  factory: FactoryService;
  revocation: RevocationService;
  pki: FleetPki;
  clock: Clock;
  devices: DeviceStore;
  /** Device routes answer 404 for a device outside the caller's scope. */
  scope: DeviceScope;
}

export function provisioningRoutes(deps: ProvisioningRouteDeps): ApiRoute[] {
  const { store, factory, revocation, scope } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/factory/batches',
      operationId: 'createBatch',
      summary: 'Register a factory batch of serials; returns its claim credential (once) and claim codes',
      tag: 'provisioning',
      permission: 'provisioning:write',
      body: createBatchSchema,
      response: batchCredentialSchema,
      status: 201,
      errors: [400, 409],
      handler: ({ body, source, principal }) => factory.createBatch(body, { actor: principal.actor, source }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/factory/batches/{id}',
      operationId: 'getBatch',
      summary: 'A factory batch with its claim usage',
      tag: 'provisioning',
      permission: 'provisioning:read',
      params: deviceIdParams,
      response: batchSchema,
      errors: [404],
      handler: async ({ params }) => {
        const batch = await store.getBatch(params.id);
        if (!batch) throw new NotFoundError(`batch ${params.id} not found`, { id: params.id });
        return batch;
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/factory/batches/{id}/csr',
      operationId: 'signFactoryCsr',
      summary: 'Sign a CSR made on the factory line; the CSR subject names the serial',
      tag: 'provisioning',
      permission: 'provisioning:write',
      params: deviceIdParams,
      body: z.strictObject({ csrPem: z.string().min(1) }),
      response: provisionResponseSchema,
      errors: [400],
      handler: ({ params, body, source, principal }) =>
        factory.signCsr(params.id, body.csrPem, { actor: principal.actor, source }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}/certificates',
      operationId: 'listDeviceCertificates',
      summary: 'Certificates issued to a device, with revocation state',
      tag: 'provisioning',
      permission: 'provisioning:read',
      params: deviceIdParams,
      response: z.object({ items: z.array(certificateSchema) }),
      handler: async ({ params, principal }) => {
        await scope.requireDevice(principal, 'provisioning:read', params.id);
        return { items: await store.listCertificates(params.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/devices/{id}/label',
      operationId: 'getDeviceLabel',
      summary: "The device's owner-claim label: a QR code of its claim code with the serial beside it",
      tag: 'owners',
      permission: 'provisioning:read',
      params: deviceIdParams,
      query: z.strictObject({ format: z.enum(['png', 'svg']).default('png') }),
      response: z.string(),
      produces: ['image/png', 'image/svg+xml'],
      errors: [404],
      handler: async ({ params, query, principal }) => {
        await scope.requireDevice(principal, 'provisioning:read', params.id);
        const [device, claimCode] = await Promise.all([
          deps.devices.getDevice(params.id),
          store.getClaimCode(params.id),
        ]);
        if (!device || claimCode === undefined)
          throw new NotFoundError(`device ${params.id} has no claim code`, { id: params.id });
        const label = renderLabel({ deviceId: device.id, serial: device.serial, claimCode });
        return query.format === 'svg'
          ? { contentType: 'image/svg+xml', body: label.svg }
          : { contentType: 'image/png', body: label.png };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/devices/{id}/revoke',
      operationId: 'revokeDevice',
      summary: 'Revoke every credential of a device; it is disconnected at once and listed in the CRL',
      tag: 'provisioning',
      permission: 'provisioning:write',
      params: deviceIdParams,
      body: z.strictObject({ reason: z.string().min(1).max(512) }),
      response: revokeResultSchema,
      errors: [400, 404],
      handler: async ({ params, body, source, principal }) => {
        await scope.requireDevice(principal, 'provisioning:write', params.id);
        return revocation.revoke(params.id, { reason: body.reason, actor: principal.actor, source });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/claims/redeem',
      operationId: 'redeemClaimCode',
      summary: 'Take ownership of a device with the claim code on its label',
      tag: 'owners',
      permission: 'provisioning:write',
      body: z.strictObject({ code: z.string().min(4).max(64), owner: ownerSchema }),
      response: deviceSchema,
      errors: [400, 403, 409],
      handler: ({ body, source, principal }) =>
        store.redeemClaimCode(normalizeClaimCode(body.code), body.owner, deps.clock.now(), {
          actor: principal.actor,
          source,
        }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/api/v1/devices/{id}/owner',
      operationId: 'transferOwner',
      summary: 'Transfer a device to another owner',
      tag: 'owners',
      permission: 'provisioning:write',
      params: deviceIdParams,
      body: z.strictObject({ owner: ownerSchema }),
      response: deviceSchema,
      errors: [400, 404],
      handler: async ({ params, body, source, principal }) => {
        await scope.requireDevice(principal, 'provisioning:write', params.id);
        return store.setOwner(params.id, body.owner, deps.clock.now(), { actor: principal.actor, source });
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/devices/{id}/owner',
      operationId: 'releaseOwner',
      summary: 'Release a device from its owner',
      tag: 'owners',
      permission: 'provisioning:write',
      params: deviceIdParams,
      response: deviceSchema,
      errors: [404],
      handler: async ({ params, source, principal }) => {
        await scope.requireDevice(principal, 'provisioning:write', params.id);
        return store.setOwner(params.id, null, deps.clock.now(), { actor: principal.actor, source });
      },
    }),
    ...auditRoutes(store),
    defineRoute({
      method: 'GET',
      path: '/pki/crl.pem',
      operationId: 'getCrl',
      summary: 'The certificate revocation list, signed by the issuing CA (for external brokers)',
      tag: 'pki',
      permission: PUBLIC,
      response: z.string(),
      produces: ['application/x-pem-file'],
      handler: async () => ({ contentType: 'application/x-pem-file', body: await revocation.currentCrl() }),
    }),
    defineRoute({
      method: 'GET',
      path: '/pki/chain.pem',
      operationId: 'getCaChain',
      summary: 'The CA chain devices and brokers trust: issuing CA, then root',
      tag: 'pki',
      permission: PUBLIC,
      response: z.string(),
      produces: ['application/x-pem-file'],
      handler: () => Promise.resolve({ contentType: 'application/x-pem-file', body: deps.pki.chainPem }),
    }),
  ];
}
