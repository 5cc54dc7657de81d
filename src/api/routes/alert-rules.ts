/** Management API: alert rules (CRUD). Rules, defaults and evaluation: docs/alerts.md. */
import { z } from 'zod';
import { alertRulePatchSchema, alertRuleSchema, ruleNameSchema } from '../../alerts/rules/alert-rule.ts';
import type { AlertRuleService } from '../../alerts/rules/alert-rule-service.ts';
import { defineRoute, type ApiRoute } from '../route.ts';

export const storedAlertRuleSchema = z.object({
  rule: alertRuleSchema,
  /** `default`: shipped with Flotilla (and maybe edited since); `user`: created through the API. */
  origin: z.enum(['default', 'user']),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
});

export const alertRuleListSchema = z.object({ items: z.array(storedAlertRuleSchema) });

const nameParams = z.strictObject({ name: ruleNameSchema });

export function alertRuleRoutes(deps: { rules: AlertRuleService }): ApiRoute[] {
  const { rules } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/alert-rules',
      operationId: 'listAlertRules',
      summary: 'Every alert rule, by name (the shipped defaults included)',
      tag: 'alerts',
      permission: 'alerts:read',
      response: alertRuleListSchema,
      handler: async () => ({ items: await rules.list() }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/alert-rules/{name}',
      operationId: 'getAlertRule',
      summary: 'One alert rule',
      tag: 'alerts',
      permission: 'alerts:read',
      params: nameParams,
      response: storedAlertRuleSchema,
      errors: [400, 404],
      handler: ({ params }) => rules.get(params.name),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/alert-rules',
      operationId: 'createAlertRule',
      summary: 'Create an alert rule; impossible thresholds and bad queries are refused naming the field',
      tag: 'alerts',
      permission: 'alert-rules:write',
      body: alertRuleSchema,
      response: storedAlertRuleSchema,
      status: 201,
      errors: [400, 409],
      handler: ({ body, principal }) => rules.create(body, principal.actor),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/v1/alert-rules/{name}',
      operationId: 'updateAlertRule',
      summary: 'Change fields of an alert rule (e.g. `{"enabled": false}`); the result is checked as a whole',
      tag: 'alerts',
      permission: 'alert-rules:write',
      params: nameParams,
      body: alertRulePatchSchema,
      response: storedAlertRuleSchema,
      errors: [400, 404],
      handler: ({ params, body, principal }) => rules.update(params.name, body, principal.actor),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/alert-rules/{name}',
      operationId: 'deleteAlertRule',
      summary: 'Delete an alert rule and resolve the alerts it raised',
      tag: 'alerts',
      permission: 'alert-rules:write',
      params: nameParams,
      response: z.object({ deleted: z.literal(true) }),
      errors: [400, 404],
      handler: async ({ params, principal }) => {
        await rules.delete(params.name, principal.actor);
        return { deleted: true as const };
      },
    }),
  ];
}
