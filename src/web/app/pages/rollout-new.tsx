/**
 * New rollout (`#/rollouts/new?model=…&version=…`): a release, stages, hold time and an optional
 * fleet query. The dry run (nothing stored) runs as the form changes; creating is possible only
 * once it answered for exactly what the form says, and asks for confirmation with its numbers.
 */
import type { z } from 'zod';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { releaseSchema } from '../../../api/routes/firmware.ts';
import type { createdSchema, dryRunSchema } from '../../../api/routes/rollouts.ts';
import type { RolloutSpecInput } from '../../../ota/rollouts/rollout-spec.ts';
import type { PageProps } from '../app.tsx';
import { ApiError, get, post } from '../api.ts';
import { href, navigate } from '../router.tsx';
import { Can, useSession } from '../session.tsx';
import { ErrorBox, Loading, useAction, useAsync } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { formatNumber } from '../ui/format.ts';
import { Card, PageHeader } from '../ui/layout.tsx';
import { formatHold, plural } from './rollout-format.ts';

type Release = z.infer<typeof releaseSchema>;
type DryRun = z.infer<typeof dryRunSchema>;
type Created = z.infer<typeof createdSchema>;

interface Form {
  model: string;
  version: string;
  /** `1,10,50,100`: cumulative percents. */
  stages: string;
  holdS: string;
  where: string;
  manualApproval: boolean;
  /** The health-regression gate (on by default in the API). */
  healthRegression: boolean;
}

const DRY_RUN_DELAY_MS = 400;

/** The spec the form describes, or the reason it is not one yet (checked here: what the API cannot word). */
function specOf(form: Form): { spec: RolloutSpecInput } | { problem: string } {
  if (form.model === '' || form.version === '') return { problem: 'Choose a model and a release version.' };
  const parts = form.stages.split(',').map((p) => p.trim());
  const percents = parts.map(Number);
  if (parts.some((p) => p === '') || percents.some((p) => !Number.isFinite(p)))
    return { problem: 'Stages are percentages separated by commas, e.g. 1,10,50,100.' };
  const holdS = Number(form.holdS);
  if (form.holdS.trim() === '' || !Number.isInteger(holdS) || holdS < 0)
    return { problem: 'The hold time is a whole number of seconds (0 or more).' };
  const last = percents.length - 1;
  const where = form.where.trim();
  return {
    spec: {
      release: { model: form.model, version: form.version },
      selector: where === '' ? {} : { where },
      stages: percents.map((percent, index) => ({
        percent,
        holdS,
        // The last stage has no next stage to approve (the API refuses it there).
        manualApproval: form.manualApproval && index < last,
      })),
      ...(form.healthRegression ? {} : { gates: { healthRegression: { enabled: false } } }),
    },
  };
}

/** Models in name order, each with its versions newest first (the API's order). */
function byModel(releases: readonly Release[]): Map<string, string[]> {
  const models = new Map<string, string[]>();
  for (const r of [...releases].sort((a, b) => a.hardwareModel.localeCompare(b.hardwareModel)))
    models.set(r.hardwareModel, [...(models.get(r.hardwareModel) ?? []), r.version]);
  return models;
}

export function NewRolloutPage(props: PageProps) {
  const session = useSession();
  const releases = useAsync(() => get<{ items: Release[] }>('/api/v1/firmware/releases'), []);
  return (
    <>
      <PageHeader
        title="New rollout"
        subtitle="Update the devices of one hardware model to a release, stage by stage. Nothing starts before you confirm."
      >
        <a href={href('/rollouts')}>Back to the rollouts</a>
      </PageHeader>
      <ErrorBox error={releases.error} title="Could not load the releases" />
      {releases.data === undefined ? (
        releases.error === undefined ? (
          <Loading what="releases" />
        ) : null
      ) : releases.data.items.length === 0 ? (
        <Card>
          <p>
            No release is published yet, so there is nothing to roll out. Publish one first (see the{' '}
            <a href={href('/firmware')}>Firmware</a> page).
          </p>
        </Card>
      ) : (
        <>
          <Can permission="rollouts:write">
            <RolloutForm models={byModel(releases.data.items)} query={props.query} />
          </Can>
          {session.can('rollouts:write') ? null : (
            <p class="notice">
              Your role may look at rollouts but not start them (that needs rollouts:write).
            </p>
          )}
        </>
      )}
    </>
  );
}

function RolloutForm(props: { models: Map<string, string[]>; query: URLSearchParams }) {
  const firstModel = props.models.keys().next().value ?? '';
  const wantedModel = props.query.get('model') ?? '';
  const model = props.models.has(wantedModel) ? wantedModel : firstModel;
  const wantedVersion = props.query.get('version') ?? '';
  const versions = props.models.get(model) ?? [];
  const [form, setForm] = useState<Form>({
    model,
    version: versions.includes(wantedVersion) ? wantedVersion : (versions[0] ?? ''),
    stages: '1,10,50,100',
    holdS: '60',
    where: props.query.get('where') ?? '',
    manualApproval: false,
    healthRegression: true,
  });
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const parsed = useMemo(() => specOf(form), [form]);
  const specKey = 'spec' in parsed ? JSON.stringify(parsed.spec) : '';
  const dryRun = useDryRun('spec' in parsed ? parsed.spec : undefined, specKey);
  const confirm = useConfirm();
  const create = useAction(async (spec: RolloutSpecInput) => {
    const created = await post<Created>('/api/v1/rollouts', spec);
    navigate(`/rollouts/${encodeURIComponent(created.rollout.id)}`);
  });
  const ready = dryRun.result !== undefined && dryRun.result.key === specKey && !dryRun.busy;

  const onCreate = async () => {
    if (!('spec' in parsed) || dryRun.result === undefined) return;
    const { answer } = dryRun.result;
    const ok = await confirm.ask({
      title: `Start rolling out ${form.model} ${form.version}?`,
      body: (
        <>
          <p>
            {plural(answer.devices, 'device')} will be updated in {plural(answer.stageSizes.length, 'stage')}.
            Stage 1 starts now with {plural(answer.stageSizes[0] ?? 0, 'device')}; each next stage starts when
            every gate of the previous one passes and its hold of {formatHold(Number(form.holdS))} has elapsed
            {form.manualApproval ? ', and after your approval' : ''}.
          </p>
          <p class="muted">A failing gate pauses the rollout; you can pause or cancel it at any time.</p>
        </>
      ),
      confirmLabel: 'Start rollout',
    });
    if (ok) await create.run(parsed.spec);
  };

  return (
    <Card class="rollout-form">
      {confirm.dialog}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void onCreate();
        }}
      >
        <div class="row">
          <label>
            Hardware model
            <select
              name="model"
              value={form.model}
              onChange={(e) => {
                const next = e.currentTarget.value;
                set({ model: next, version: props.models.get(next)?.[0] ?? '' });
              }}
            >
              {[...props.models.keys()].map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <label>
            Release version
            <select
              name="version"
              value={form.version}
              onChange={(e) => set({ version: e.currentTarget.value })}
            >
              {(props.models.get(form.model) ?? []).map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label>
            Stages (cumulative %)
            <input
              name="stages"
              value={form.stages}
              onInput={(e) => set({ stages: e.currentTarget.value })}
              placeholder="1,10,50,100"
            />
          </label>
          <label>
            Hold per stage (s)
            <input
              name="holdS"
              type="number"
              min={0}
              value={form.holdS}
              onInput={(e) => set({ holdS: e.currentTarget.value })}
            />
          </label>
        </div>
        <label>
          Only devices matching (fleet query, optional)
          <input
            name="where"
            class="mono"
            value={form.where}
            onInput={(e) => set({ where: e.currentTarget.value })}
            placeholder={'e.g. region = "eu-west" and battery > 30   (empty: every device of the model)'}
          />
        </label>
        <label class="checkbox">
          <input
            type="checkbox"
            name="manualApproval"
            checked={form.manualApproval}
            onChange={(e) => set({ manualApproval: e.currentTarget.checked })}
          />
          Wait for my approval before each next stage
        </label>
        <label class="checkbox">
          <input
            type="checkbox"
            name="healthRegression"
            checked={form.healthRegression}
            onChange={(e) => set({ healthRegression: e.currentTarget.checked })}
          />
          Health regression gate: compare errors, crashes, reboots, disconnects and battery drain of updated
          devices with the others
        </label>
        {form.healthRegression ? null : (
          <p class="notice">
            Without it, a release that installs fine but misbehaves afterwards is not stopped. Turn it off
            only for devices that send no telemetry, or for a quick trial.
          </p>
        )}
        <p class="muted hint">
          Stage sizes are cumulative: 1,10,50,100 updates 1 % of the devices first, then up to 10 %, 50 % and
          all. The last stage must be 100. Devices already on this version, or whose hardware does not fit,
          are left out. The health regression gate waits for about one device-hour of telemetry from each
          stage's updated devices, so a stage of a few devices takes 20 minutes or more.
        </p>
        {'problem' in parsed ? <p class="notice">{parsed.problem}</p> : null}
        <DryRunResult dryRun={dryRun} current={specKey} />
        <ErrorBox error={create.error} title="The rollout was not created" />
        <div class="actions">
          <button type="submit" class="primary" data-testid="rollout-create" disabled={!ready || create.busy}>
            {create.busy ? 'Creating…' : 'Create rollout…'}
          </button>
          {!ready && 'spec' in parsed && dryRun.error === undefined ? (
            <span class="muted">Checking which devices it would update…</span>
          ) : null}
        </div>
      </form>
    </Card>
  );
}

interface DryRunState {
  /** The last answer and the spec it was for. */
  result: { key: string; answer: DryRun } | undefined;
  error: ApiError | undefined;
  busy: boolean;
}

/** Dry-runs `spec` shortly after it stops changing; an older answer never replaces a newer one. */
function useDryRun(spec: RolloutSpecInput | undefined, key: string): DryRunState {
  const [state, setState] = useState<DryRunState>({ result: undefined, error: undefined, busy: false });
  useEffect(() => {
    if (spec === undefined) {
      setState({ result: undefined, error: undefined, busy: false });
      return undefined;
    }
    let current = true;
    setState((s) => ({ ...s, busy: true }));
    const timer = setTimeout(() => {
      post<DryRun>('/api/v1/rollouts/dry-run', spec).then(
        (answer) => {
          if (current) setState({ result: { key, answer }, error: undefined, busy: false });
        },
        (err: unknown) => {
          if (!current) return;
          const error =
            err instanceof ApiError ? err : new ApiError(0, 'client', (err as Error).message, undefined);
          setState({ result: undefined, error, busy: false });
        },
      );
    }, DRY_RUN_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // `key` is the spec's JSON: the effect re-runs when the spec's content changes.
  }, [key]);
  return state;
}

/** "N devices would be updated: stage 1 → n1, …", or why the API refuses the spec. */
function DryRunResult(props: { dryRun: DryRunState; current: string }) {
  const { result, error } = props.dryRun;
  if (error !== undefined) return <ErrorBox error={error} title="This rollout would be refused" />;
  if (result === undefined || result.key !== props.current) return null;
  const { answer } = result;
  const reasons = new Map<string, number>();
  for (const e of answer.excluded) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
  return (
    <div class="notice rollout-dry-run" data-testid="rollout-dry-run">
      <strong>
        <span data-testid="rollout-dry-run-count">{answer.devices}</span> devices would be updated
      </strong>
      : {answer.stageSizes.map((n, i) => `stage ${i + 1} → ${formatNumber(n)}`).join(', ')}.
      <div class="muted">
        {plural(answer.matched, 'device')} of the model match
        {reasons.size > 0
          ? `; left out: ${[...reasons].map(([reason, n]) => `${n} ${reason.replace(/_/g, ' ')}`).join(', ')}`
          : ''}
        .{' '}
        {answer.sample.length > 0 ? (
          <span title={answer.sample.join('\n')}>
            First: {answer.sample.slice(0, 5).join(', ')}
            {answer.sample.length > 5 ? ', …' : ''}
          </span>
        ) : null}
      </div>
    </div>
  );
}
