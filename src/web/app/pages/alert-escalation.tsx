/**
 * An alert's escalation, loaded when the operator opens it: the level its chain reached, the next
 * step and when it is due, who was notified (the ledger rows of GET /alerts/{id}/notifications),
 * and the alert's history (opened, severity changes, acknowledged, resolved, with notes).
 */
import type { z } from 'zod';
import type { alertEventSchema } from '../../../api/routes/alerts.ts';
import type { notificationSchema } from '../../../api/routes/alert-notifications.ts';
import { get } from '../api.ts';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge } from '../ui/layout.tsx';
import type { AlertView } from './alerts.tsx';

type Notification = z.infer<typeof notificationSchema>;
type AlertEvent = z.infer<typeof alertEventSchema>;

/** `warning:1` → "warning step 2"; `resolved`, `digest` as they are. */
function stepLabel(step: string): string {
  const [severity, index] = step.split(':');
  return index === undefined ? step : `${severity} step ${Number(index) + 1}`;
}

export function AlertEscalation(props: { alert: AlertView }) {
  const id = encodeURIComponent(props.alert.id);
  const data = useAsync(
    () =>
      Promise.all([
        get<{ items: Notification[] }>(`/api/v1/alerts/${id}/notifications`),
        get<{ history: AlertEvent[] }>(`/api/v1/alerts/${id}`),
      ]),
    [id, props.alert.state],
  );
  if (data.error !== undefined) return <ErrorBox error={data.error} title="Could not load the escalation" />;
  if (data.data === undefined) return <Loading what="the escalation" />;
  const [{ items }, { history }] = data.data;
  const sent = items.filter((n) => n.state === 'sent');
  const reached = sent.filter((n) => n.step.includes(':')).map((n) => stepLabel(n.step));
  const pending = items.filter((n) => n.state === 'pending').sort((a, b) => a.dueAtMs - b.dueAtMs);
  const notified = [...new Set(sent.map((n) => n.channel))];
  return (
    <div class="alert-escalation">
      <dl class="facts">
        <dt>Level reached</dt>
        <dd>{reached.length === 0 ? 'nothing sent yet' : reached[reached.length - 1]}</dd>
        <dt>Next escalation</dt>
        <dd>
          {pending[0] === undefined
            ? 'none pending'
            : `${stepLabel(pending[0].step)} to ${pending[0].channel} ${formatAgo(pending[0].dueAtMs)} (${formatTime(pending[0].dueAtMs)})`}
        </dd>
        <dt>Notified</dt>
        <dd>{notified.length === 0 ? 'nobody yet' : notified.join(', ')}</dd>
      </dl>
      {items.length === 0 ? (
        <p class="muted">
          No notifications: the escalation policy of this severity (server configuration{' '}
          <code>alerts.escalation</code>) has no step for it yet.
        </p>
      ) : (
        <table class="compact">
          <thead>
            <tr>
              <th>Step</th>
              <th>Channel</th>
              <th>Kind</th>
              <th>State</th>
              <th>Due</th>
              <th>Sent</th>
              <th>Attempts</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((n) => (
              <tr key={`${n.step}|${n.channel}|${n.kind}`}>
                <td>{stepLabel(n.step)}</td>
                <td>{n.channel}</td>
                <td>{n.kind}</td>
                <td>
                  <Badge value={n.state} />
                </td>
                <td title={formatTime(n.dueAtMs)}>{formatAgo(n.dueAtMs)}</td>
                <td>{n.sentAtMs === null ? '—' : formatTime(n.sentAtMs)}</td>
                <td class="num">{n.attempts}</td>
                <td>{n.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>History</h4>
      <ul class="alert-history">
        {history.map((event, index) => (
          <li key={index}>
            <span class="muted">{formatTime(event.atMs)}</span> <strong>{event.kind}</strong> by {event.actor}
            {event.note !== null ? <q>{event.note}</q> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
