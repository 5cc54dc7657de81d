/**
 * Starting a job: what to run, on which devices (a fleet query), how fast and when to give up.
 * The jobs API's dry run counts the devices as the form changes; "Create" is enabled only once the
 * count for exactly this form is shown, and the confirmation names it ("Reboot 37 devices?").
 * A factory reset is a danger dialog and sends the API's `confirm` flag.
 */
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { createdSchema, dryRunSchema } from '../../../api/routes/jobs.ts';
import { post } from '../api.ts';
import { navigate } from '../router.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { Card } from '../ui/layout.tsx';
import { QueryInput, devicesText, isQueryError, useDryRun } from '../ui/query-input.tsx';

type DryRunAnswer = z.infer<typeof dryRunSchema>;
type Created = z.infer<typeof createdSchema>;

/** The command select: the operations of job-spec.ts, `custom` being a registered command. */
const commands = [
  ['reboot', 'Reboot', 'Reboot'],
  ['self-test', 'Self-test', 'Run a self-test on'],
  ['sensors', 'Read sensors', 'Read the sensors of'],
  ['logs', 'Collect logs', 'Collect logs from'],
  ['recovery', 'Boot into recovery', 'Boot into recovery'],
  ['factory-reset', 'Factory reset (erases the device)', 'Factory-reset'],
  ['custom', 'Custom command…', 'Run the command on'],
] as const;
type Command = (typeof commands)[number][0];

interface Form {
  command: Command;
  commandName: string;
  params: string;
  where: string;
  rateLimitPerMinute: string;
  abortAfterFailedPercent: string;
  description: string;
}

const initial: Form = {
  command: 'reboot',
  commandName: '',
  params: '{}',
  where: '',
  rateLimitPerMinute: '100',
  abortAfterFailedPercent: '20',
  description: '',
};

/** The request body, or the reason the form is not complete yet. */
function bodyOf(form: Form): { body: Record<string, unknown> } | { problem: string } {
  if (form.where.trim() === '') return { problem: 'Enter a fleet query to choose the devices.' };
  const body: Record<string, unknown> = {
    operation: form.command === 'custom' ? 'command' : form.command,
    target: { where: form.where.trim() },
  };
  if (form.command === 'custom') {
    if (form.commandName.trim() === '') return { problem: 'Enter the command name the devices registered.' };
    body['command'] = form.commandName.trim();
    try {
      const params: unknown = JSON.parse(form.params.trim() === '' ? '{}' : form.params);
      if (typeof params !== 'object' || params === null || Array.isArray(params))
        return { problem: 'The arguments are a JSON object, like {"count": 3}.' };
      body['params'] = params;
    } catch (err) {
      return { problem: `The arguments are not valid JSON: ${(err as Error).message}` };
    }
  }
  const rate = Number(form.rateLimitPerMinute);
  if (form.rateLimitPerMinute.trim() !== '' && Number.isFinite(rate)) body['rateLimitPerMinute'] = rate;
  const abort = Number(form.abortAfterFailedPercent);
  if (form.abortAfterFailedPercent.trim() !== '' && Number.isFinite(abort))
    body['abortAfterFailedPercent'] = abort;
  if (form.description.trim() !== '') body['description'] = form.description.trim();
  return { body };
}

export function NewJobForm(props: { onClose: () => void }) {
  const [form, setForm] = useState<Form>(initial);
  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  const built = bodyOf(form);
  const body = 'body' in built ? built.body : undefined;
  const dryRun = useDryRun(body === undefined ? undefined : JSON.stringify(body), () =>
    post<DryRunAnswer>('/api/v1/jobs', { ...body, dryRun: true }),
  );
  // "The target matches no device" is an answer, not a failure: the count is 0.
  const noDevice = dryRun.error?.details?.['field'] === 'target';
  const count = noDevice ? 0 : dryRun.result?.result.devices;
  const confirm = useConfirm();
  const create = useAction(async () => {
    if (body === undefined || count === undefined) return;
    const [, , verb] = commands.find(([value]) => value === form.command) ?? commands[0];
    const reset = form.command === 'factory-reset';
    const what = form.command === 'custom' ? `${verb} ${form.commandName}` : verb;
    const ok = await confirm.ask({
      title: `${what} ${devicesText(count)}?`,
      body: reset ? (
        <p>
          <strong>A factory reset erases every device's data and configuration.</strong> It cannot be undone.
          The devices selected now by <code>{form.where}</code> are reset as they come online.
        </p>
      ) : (
        <p>
          The job is sent to the devices selected now by <code>{form.where}</code>, at most{' '}
          {form.rateLimitPerMinute || '1000'} per minute; offline devices get it when they reconnect.
        </p>
      ),
      confirmLabel: reset ? `Factory-reset ${devicesText(count)}` : 'Start job',
      danger: reset,
    });
    if (!ok) return;
    const created = await post<Created>('/api/v1/jobs', { ...body, ...(reset ? { confirm: true } : {}) });
    if (!created.dryRun) navigate(`/jobs/${encodeURIComponent(created.job.id)}`);
  });

  return (
    <Card title="New job" class="job-form">
      <form class="stack" onSubmit={(e) => e.preventDefault()}>
        <div class="row">
          <label>
            Command
            <select
              name="command"
              value={form.command}
              onChange={(e) => set({ command: e.currentTarget.value as Command })}
            >
              {commands.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {form.command === 'custom' ? (
            <label>
              Command name
              <input
                name="command-name"
                value={form.commandName}
                placeholder="diag.ping"
                onInput={(e) => set({ commandName: e.currentTarget.value })}
              />
            </label>
          ) : null}
          <label class="grow">
            Description (optional)
            <input
              name="description"
              value={form.description}
              placeholder="Why this job runs"
              onInput={(e) => set({ description: e.currentTarget.value })}
            />
          </label>
        </div>
        {form.command === 'custom' ? (
          <label>
            Arguments (a JSON object handed to the device as is)
            <textarea
              name="params"
              rows={3}
              value={form.params}
              onInput={(e) => set({ params: e.currentTarget.value })}
            />
          </label>
        ) : null}
        <QueryInput value={form.where} onInput={(where) => set({ where })} error={dryRun.error} />
        <div class="row">
          <label>
            Rate limit (devices per minute)
            <input
              name="rateLimitPerMinute"
              type="number"
              min={1}
              value={form.rateLimitPerMinute}
              onInput={(e) => set({ rateLimitPerMinute: e.currentTarget.value })}
            />
          </label>
          <label>
            Abort when more than this % fail
            <input
              name="abortAfterFailedPercent"
              type="number"
              min={0}
              max={100}
              value={form.abortAfterFailedPercent}
              placeholder="never"
              onInput={(e) => set({ abortAfterFailedPercent: e.currentTarget.value })}
            />
          </label>
          <p class="muted hint">
            The abort threshold applies once 10 devices finished; leave it empty to never abort.
          </p>
        </div>
        <DryRunSummary
          problem={'problem' in built ? built.problem : undefined}
          loading={dryRun.loading}
          count={count}
          answer={dryRun.result}
        />
        {dryRun.error !== undefined && !noDevice && !isQueryError(dryRun.error) ? (
          <ErrorBox error={dryRun.error} title="The dry run was refused" />
        ) : null}
        <ErrorBox error={create.error} title="The job was refused" />
        <div class="actions">
          <button
            type="button"
            class={form.command === 'factory-reset' ? 'danger' : 'primary'}
            data-testid="job-create"
            disabled={create.busy || dryRun.loading || count === undefined || count === 0}
            onClick={() => void create.run()}
          >
            {count === undefined ? 'Create job' : `Create job on ${devicesText(count)}`}
          </button>
          <button type="button" onClick={props.onClose}>
            Close
          </button>
        </div>
        {confirm.dialog}
      </form>
    </Card>
  );
}

function DryRunSummary(props: {
  problem: string | undefined;
  loading: boolean;
  count: number | undefined;
  answer: DryRunAnswer | undefined;
}) {
  if (props.problem !== undefined) return <p class="notice">{props.problem}</p>;
  if (props.loading) return <p class="notice muted">Counting the devices…</p>;
  if (props.count === undefined) return null;
  const result = props.answer?.result;
  return (
    <div class="notice dry-run">
      Dry run: <strong data-testid="job-dry-run-count">{props.count}</strong>{' '}
      {props.count === 1 ? 'device matches' : 'devices match'}
      {props.count === 0 ? ' — change the query to select some devices.' : '.'}
      {result !== undefined && result.unsupported > 0 ? (
        <div class="warn-text">
          {result.unsupported} of them do not support this command: their executions fail at once.
        </div>
      ) : null}
      {result !== undefined && result.capabilitiesUnknown > 0 ? (
        <div class="muted">{result.capabilitiesUnknown} never reported what they support.</div>
      ) : null}
      {result !== undefined && result.sample.length > 0 ? (
        <div class="muted sample">
          For example: {result.sample.slice(0, 8).join(', ')}
          {result.devices > 8 ? ', …' : ''}
        </div>
      ) : null}
    </div>
  );
}
