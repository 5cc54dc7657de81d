/**
 * The operator's buttons on a rollout: approve, pause, resume, cancel. Each is shown only in the
 * statuses the API allows it (operator-actions.ts) and only with `rollouts:write`, asks for
 * confirmation with what will happen, and takes an optional note kept in the timeline.
 */
import type { ComponentChildren } from 'preact';
import { post } from '../api.ts';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { plural, releaseLabel, stageSize, type RolloutStatus, type RolloutView } from './rollout-format.ts';

type Action = 'approve' | 'pause' | 'resume' | 'cancel';

interface ActionText {
  label: string;
  title: string;
  body: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
}

/** From which statuses each action is allowed (mirrors src/ota/rollouts/operator-actions.ts). */
const allowedFrom: Record<Action, readonly RolloutStatus[]> = {
  approve: ['waiting-approval'],
  pause: ['running', 'waiting-approval'],
  resume: ['paused'],
  cancel: ['running', 'waiting-approval', 'paused'],
};

function texts(view: RolloutView): Record<Action, ActionText> {
  const { rollout, devices } = view;
  const release = releaseLabel(rollout);
  const next = rollout.state.stageIndex + 1;
  const nextStage = rollout.spec.stages[next];
  const nextDevices = view.stages[next]?.devices ?? 0;
  const updated = devices['success'] ?? 0;
  return {
    approve: {
      label: `Approve stage ${next + 1}`,
      title: `Approve stage ${next + 1} of ${release}?`,
      body: (
        <p>
          Stage {next + 1}
          {nextStage === undefined ? '' : ` (${stageSize(nextStage)})`} starts now: the offer of{' '}
          {rollout.spec.release.version} goes to {plural(nextDevices, 'more device')}.
        </p>
      ),
      confirmLabel: 'Approve',
    },
    pause: {
      label: 'Pause',
      title: `Pause rollout of ${release}?`,
      body: <p>Devices already updating finish; no new devices start until someone resumes it.</p>,
      confirmLabel: 'Pause rollout',
    },
    resume: {
      label: 'Resume',
      title: `Resume rollout of ${release}?`,
      body: (
        <p>
          New devices start again. The gates are checked first: a gate that still fails pauses the rollout
          again.
        </p>
      ),
      confirmLabel: 'Resume rollout',
    },
    cancel: {
      label: 'Cancel rollout',
      title: `Cancel rollout of ${release}?`,
      body: (
        <p>
          This is final. Offers not installed yet are withdrawn; updated devices keep{' '}
          {rollout.spec.release.version} ({plural(updated, 'device')} so far). To go on later, start a new
          rollout.
        </p>
      ),
      confirmLabel: 'Cancel rollout',
      danger: true,
    },
  };
}

const order: readonly Action[] = ['approve', 'pause', 'resume', 'cancel'];

export function RolloutActions(props: { view: RolloutView; onChanged: () => void }) {
  const { rollout } = props.view;
  const confirm = useConfirm();
  const action = useAction((name: Action, note: string) =>
    post(`/api/v1/rollouts/${encodeURIComponent(rollout.id)}/${name}`, note === '' ? {} : { note }),
  );
  const all = texts(props.view);

  const onClick = async (name: Action) => {
    const text = all[name];
    // The dialog's body is rendered once per question: the note lives outside it.
    const draft = { note: '' };
    const ok = await confirm.ask({
      title: text.title,
      body: (
        <>
          {text.body}
          <label>
            Note for the timeline (optional)
            <textarea
              name="note"
              rows={2}
              maxLength={1000}
              placeholder="why, e.g. a ticket number"
              onInput={(e) => {
                draft.note = e.currentTarget.value;
              }}
            />
          </label>
        </>
      ),
      confirmLabel: text.confirmLabel,
      ...(text.danger === true ? { danger: true } : {}),
    });
    if (!ok) return;
    await action.run(name, draft.note.trim());
    // Reload either way: a 409 means someone (or a gate) changed the status meanwhile.
    props.onChanged();
  };

  const visible = order.filter((name) => allowedFrom[name].includes(rollout.state.status));
  return (
    <Can permission="rollouts:write">
      {/* Rendered even without buttons: a refresh may change the status while the dialog is open. */}
      {confirm.dialog}
      {visible.length === 0 ? null : (
        <div class="rollout-actions">
          <div class="actions">
            {visible.map((name) => (
              <button
                key={name}
                type="button"
                data-testid={`rollout-${name}`}
                class={
                  name === 'cancel'
                    ? 'danger'
                    : name === 'approve' || name === 'resume'
                      ? 'primary'
                      : undefined
                }
                disabled={action.busy}
                onClick={() => void onClick(name)}
              >
                {all[name].label}
              </button>
            ))}
          </div>
          <ErrorBox error={action.error} title="The rollout refused" />
        </div>
      )}
    </Can>
  );
}
