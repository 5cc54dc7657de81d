/**
 * One rollout (`#/rollouts/:id`): its status and why it paused, the operator's buttons, and cards
 * for the stages, the current stage's gates (value against threshold), devices per state and the
 * timeline. Refreshes every 5 s while the rollout is not finished.
 */
import type { PageProps } from '../app.tsx';
import { get } from '../api.ts';
import { href } from '../router.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { PageHeader } from '../ui/layout.tsx';
import { RolloutActions } from './rollout-actions.tsx';
import { GatesCard, StagesCard, TimelineCard } from './rollout-cards.tsx';
import { DevicesCard } from './rollout-devices.tsx';
import { SpecCard } from './rollout-spec-card.tsx';
import { isFinal, pauseReasonText, releaseLabel, stageProgress, type RolloutView } from './rollout-format.ts';
import { useInterval } from './rollout-refresh.ts';

const REFRESH_MS = 5000;

export function RolloutPage(props: PageProps) {
  const id = props.params['id'] ?? '';
  const view = useAsync(() => get<RolloutView>(`/api/v1/rollouts/${encodeURIComponent(id)}`), [id]);
  const active = view.data !== undefined && !isFinal(view.data.rollout.state.status);
  useInterval(() => view.reload(), REFRESH_MS, active);

  if (view.data === undefined)
    return (
      <>
        <PageHeader title={`Rollout ${id}`}>
          <a href={href('/rollouts')}>All rollouts</a>
        </PageHeader>
        <ErrorBox error={view.error} title="Could not load the rollout" />
        {view.error === undefined ? <Loading what="the rollout" /> : null}
      </>
    );

  const { rollout } = view.data;
  const { state } = rollout;
  return (
    <>
      <PageHeader
        title={
          <>
            Rollout of {releaseLabel(rollout)}{' '}
            <span data-testid="rollout-status" class={`badge badge-${state.status}`}>
              {state.status}
            </span>
          </>
        }
        subtitle={
          <>
            Stage {stageProgress(rollout)} · created {formatAgo(rollout.createdAtMs)} by {rollout.createdBy} ·{' '}
            <span class="mono" title={`updated ${formatTime(rollout.updatedAtMs)}`}>
              {rollout.id}
            </span>
            {rollout.spec.mandatory ? ' · mandatory: hold times skipped' : null}
            {active ? <span class="muted"> · refreshes every 5 s</span> : null}
          </>
        }
      >
        <RolloutActions view={view.data} onChanged={() => view.reload()} />
      </PageHeader>
      {/* A failed refresh keeps the last answer on screen and says so. */}
      <ErrorBox error={view.error} title="Could not refresh the rollout" />
      {state.status === 'paused' && state.pauseReason !== null ? (
        <div class="error-box pause-reason" role="status" data-testid="pause-reason">
          <strong>Why it paused:</strong> {pauseReasonText(state.pauseReason)}.{' '}
          <span class="muted">
            No new devices start; resume to go on (the gates are checked again first), or cancel.
          </span>
        </div>
      ) : null}
      {state.status === 'waiting-approval' ? (
        <p class="notice">
          Stage {state.stageIndex + 1} is done and passed its gates. The next stage starts when someone
          approves it.
        </p>
      ) : null}
      <StatusLine view={view.data} />
      <div class="grid rollout-grid">
        <div class="rollout-col">
          <StagesCard view={view.data} />
          <SpecCard rollout={rollout} />
        </div>
        <GatesCard view={view.data} />
      </div>
      <div class="grid rollout-grid">
        <DevicesCard view={view.data} />
        <TimelineCard view={view.data} />
      </div>
    </>
  );
}

/** What the rollout does right now, in one sentence. */
function StatusLine(props: { view: RolloutView }) {
  const { rollout } = props.view;
  const { state, spec } = rollout;
  if (state.status !== 'running') return null;
  const stage = spec.stages[state.stageIndex];
  if (stage === undefined) return null;
  const holdEndsMs = state.holdStartedAtMs === null ? null : state.holdStartedAtMs + stage.holdS * 1000;
  return (
    <p class="muted rollout-now">
      {holdEndsMs === null
        ? `Updating the devices of stage ${state.stageIndex + 1}; its hold starts once every gate passes.`
        : `Every gate passes; holding stage ${state.stageIndex + 1} until ${formatTime(holdEndsMs)} (${formatAgo(holdEndsMs)}) before the next stage.`}
    </p>
  );
}
