/** The rollout page's stage, gate and timeline cards. */
import { useState } from 'preact/hooks';
import { formatNumber, formatTime } from '../ui/format.ts';
import { Badge, Card } from '../ui/layout.tsx';
import {
  formatHold,
  gateComparison,
  gateLabels,
  stageSize,
  stageTimes,
  type RolloutView,
  type TimelineEvent,
} from './rollout-format.ts';
import { Ago } from '../ui/ago.tsx';

export function StagesCard(props: { view: RolloutView }) {
  const { rollout, stages } = props.view;
  const times = stageTimes(rollout.spec.stages.length, props.view.timeline);
  const final = rollout.state.status === 'completed' || rollout.state.status === 'cancelled';
  return (
    <Card title="Stages" testid="card-stages">
      <div class="table-scroll">
        <table class="rollout-stages">
          <thead>
            <tr>
              <th>Stage</th>
              <th>Size</th>
              <th>Devices</th>
              <th title="updated / failed, rolled back or stuck">OK / failed</th>
              <th>Hold</th>
              <th>Started</th>
              <th>Finished</th>
            </tr>
          </thead>
          <tbody>
            {rollout.spec.stages.map((spec, index) => {
              const view = stages[index];
              const time = times[index] ?? {};
              const current = index === rollout.state.stageIndex && !final;
              return (
                <tr key={index} class={current ? 'current-stage' : undefined} data-stage={index + 1}>
                  <td>
                    {index + 1} {current ? <Badge value="current" kind="running" /> : null}
                  </td>
                  <td>{stageSize(spec)}</td>
                  <td>
                    {formatNumber(view?.devices)}
                    {view !== undefined && view.skipped > 0 ? (
                      <span class="muted"> ({view.skipped} skipped)</span>
                    ) : null}
                  </td>
                  <td>
                    {view === undefined ? (
                      '—'
                    ) : (
                      <>
                        {formatNumber(view.summary.success)} /{' '}
                        {formatNumber(view.summary.failed + view.summary.stuck)}
                      </>
                    )}
                  </td>
                  <td>
                    {rollout.spec.mandatory ? <span class="muted">skipped</span> : formatHold(spec.holdS)}
                    {spec.manualApproval ? (
                      <div class="muted small" title="An operator approves before the next stage starts">
                        + approval
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <Ago at={time.startedMs} />
                  </td>
                  <td>
                    <Ago at={time.finishedMs} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted small">
        Sizes are cumulative shares of the targeted devices. A stage ends when every gate passes and its hold
        has elapsed.
      </p>
    </Card>
  );
}

export function GatesCard(props: { view: RolloutView }) {
  const { rollout, stages } = props.view;
  const index = rollout.state.stageIndex;
  const gates = stages[index]?.gates ?? [];
  return (
    <Card title={`Gates of stage ${index + 1}`} testid="card-gates">
      <p class="muted small">
        The next stage starts only when every gate passes; a failing gate pauses the rollout. “pending”: not
        enough devices have finished to decide.
      </p>
      {gates.length === 0 ? (
        <p class="muted">No gate results for this stage.</p>
      ) : (
        <table class="rollout-gates">
          <thead>
            <tr>
              <th>Gate</th>
              <th>Value vs threshold</th>
              <th>Status</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {gates.map((g) => (
              <tr key={`${g.gate}:${g.metric ?? ''}`} data-gate={g.gate}>
                <td>
                  {gateLabels[g.gate]}
                  {g.metric !== undefined ? <div class="muted mono small">{g.metric}</div> : null}
                </td>
                <td class="mono">{gateComparison(g.gate, g.value, g.threshold)}</td>
                <td>
                  <Badge value={g.status} />
                </td>
                <td class="small">{g.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

const TIMELINE_SHOWN = 30;

/** `14:03:07` today, the full UTC time otherwise. */
function shortTime(ms: number): string {
  const full = formatTime(ms);
  return full.slice(0, 10) === formatTime(Date.now()).slice(0, 10) ? full.slice(11, 19) : full;
}

const eventKinds: Partial<Record<TimelineEvent['kind'], string>> = {
  paused: 'paused',
  cancelled: 'failed',
  completed: 'completed',
  resumed: 'running',
  approved: 'running',
  'approval-requested': 'waiting-approval',
};

export function TimelineCard(props: { view: RolloutView }) {
  const [all, setAll] = useState(false);
  const events = [...props.view.timeline].reverse();
  const shown = all ? events : events.slice(0, TIMELINE_SHOWN);
  return (
    <Card title="Timeline" testid="card-timeline">
      <ol class="rollout-timeline">
        {shown.map((e, i) => (
          <li key={`${e.atMs}:${i}`}>
            <span class="muted small" title={formatTime(e.atMs)}>
              {shortTime(e.atMs)}
            </span>{' '}
            <Badge value={e.kind} kind={eventKinds[e.kind] ?? 'event'} /> <span>{e.message}</span>{' '}
            <span class="muted small">
              · stage {e.stageIndex + 1} · {e.actor}
            </span>
          </li>
        ))}
      </ol>
      {events.length > shown.length ? (
        <button type="button" class="link-button" onClick={() => setAll(true)}>
          Show all {events.length} events
        </button>
      ) : null}
    </Card>
  );
}
