/**
 * "Change config on a query's devices": the keys to set (a JSON object) and to remove, the devices
 * (a fleet query), and the bulk API's dry run as the form changes — how many devices match and
 * which of them refuse the change. Apply is enabled once that answer is shown for exactly this form.
 */
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { bulkResultSchema } from '../../../device-config/config-api.ts';
import { post } from '../api.ts';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { formatNumber } from '../ui/format.ts';
import { Card } from '../ui/layout.tsx';
import { QueryInput, devicesText, isQueryError, useDryRun } from '../ui/query-input.tsx';
import { ConfigConflicts } from './config-conflicts.tsx';

type BulkResult = z.infer<typeof bulkResultSchema>;

interface Form {
  where: string;
  set: string;
  unset: string;
}

function bodyOf(form: Form): { body: Record<string, unknown> } | { problem: string } {
  if (form.where.trim() === '') return { problem: 'Enter a fleet query to choose the devices.' };
  let set: unknown;
  try {
    set = JSON.parse(form.set.trim() === '' ? '{}' : form.set);
  } catch (err) {
    return { problem: `The keys to set are not valid JSON: ${(err as Error).message}` };
  }
  if (typeof set !== 'object' || set === null || Array.isArray(set))
    return { problem: 'The keys to set are a JSON object, like {"log.level": "debug"}.' };
  const unset = form.unset
    .split(/[\s,]+/)
    .map((key) => key.trim())
    .filter((key) => key !== '');
  if (Object.keys(set).length === 0 && unset.length === 0)
    return { problem: 'Give at least one key to set or to remove.' };
  return { body: { where: form.where.trim(), set, unset } };
}

export function BulkConfigCard() {
  const [form, setForm] = useState<Form>({ where: '', set: '{\n  "log.level": "debug"\n}', unset: '' });
  const [applied, setApplied] = useState<BulkResult | undefined>(undefined);
  const update = (patch: Partial<Form>) => {
    setForm({ ...form, ...patch });
    setApplied(undefined);
  };
  const built = bodyOf(form);
  const body = 'body' in built ? built.body : undefined;
  const dryRun = useDryRun(body === undefined ? undefined : JSON.stringify(body), () =>
    post<BulkResult>('/api/v1/config/bulk', { ...body, dryRun: true }),
  );
  const preview = dryRun.result;
  const reachable = preview === undefined ? 0 : preview.matched - preview.conflictedDevices;
  const confirm = useConfirm();
  const apply = useAction(async () => {
    if (body === undefined || preview === undefined) return;
    const keys = [...Object.keys(body['set'] as object), ...(body['unset'] as string[]).map((k) => `−${k}`)];
    const ok = await confirm.ask({
      title: `Change config on ${devicesText(reachable)}?`,
      body: (
        <p>
          Keys {keys.join(', ')} in the own configuration of the devices <code>{form.where}</code> selects.
          {preview.conflictedDevices > 0
            ? ` ${preview.conflictedDevices} devices refuse the change and are left unchanged.`
            : ''}{' '}
          Online devices apply it at once, the others when they reconnect.
        </p>
      ),
      confirmLabel: 'Apply',
    });
    if (!ok) return;
    setApplied(await post<BulkResult>('/api/v1/config/bulk', body));
  });

  return (
    <Card title="Change config on a query's devices" class="config-bulk" testid="card-config-bulk">
      <p class="muted">
        Sets keys in each selected device's own configuration (above the fleet and group defaults). Devices
        check every key against the schema they declared; those refusing are listed before you apply.
      </p>
      <form class="stack" onSubmit={(e) => e.preventDefault()}>
        <QueryInput value={form.where} onInput={(where) => update({ where })} error={dryRun.error} />
        <div class="row">
          <label class="grow">
            Keys to set (JSON object)
            <textarea
              name="set"
              rows={4}
              value={form.set}
              onInput={(e) => update({ set: e.currentTarget.value })}
            />
          </label>
          <label class="grow">
            Keys to remove (optional, comma-separated)
            <input
              name="unset"
              class="mono"
              value={form.unset}
              placeholder="telemetry.sendS, log.level"
              onInput={(e) => update({ unset: e.currentTarget.value })}
            />
          </label>
        </div>
        {'problem' in built ? <p class="notice">{built.problem}</p> : null}
        {body !== undefined && dryRun.loading ? <p class="notice muted">Checking the devices…</p> : null}
        {preview !== undefined ? (
          <div class="notice dry-run">
            Dry run: <strong data-testid="config-dry-run-count">{preview.matched}</strong>{' '}
            {preview.matched === 1 ? 'device matches' : 'devices match'}
            {preview.matched === 0 ? ' — change the query to select some devices.' : '.'}
            {preview.matched > 0 && preview.conflictedDevices === 0 ? ' None refuses the change.' : null}
            <ConfigConflicts conflicts={preview.conflicts} total={preview.conflictedDevices} />
          </div>
        ) : null}
        {dryRun.error !== undefined && !isQueryError(dryRun.error) ? (
          <ErrorBox error={dryRun.error} title="The dry run was refused" />
        ) : null}
        <ErrorBox error={apply.error} title="Not applied" />
        {applied !== undefined ? (
          <div class="notice" data-testid="config-applied">
            Changed {formatNumber(applied.changed)} of {formatNumber(applied.matched)} devices.
            <ConfigConflicts conflicts={applied.conflicts} total={applied.conflictedDevices} />
          </div>
        ) : null}
        <Can permission="config:write">
          <div class="actions">
            <button
              type="button"
              class="primary"
              data-testid="config-apply"
              disabled={apply.busy || dryRun.loading || preview === undefined || reachable <= 0}
              onClick={() => void apply.run()}
            >
              {preview === undefined ? 'Apply' : `Apply to ${devicesText(reachable)}`}
            </button>
          </div>
        </Can>
      </form>
      {confirm.dialog}
    </Card>
  );
}
