/**
 * One alert in the table: what, where, how often, and the operator's two answers (acknowledge
 * stops the escalation; resolve closes it), each confirmed with an optional note for the history.
 * The escalation's details (notifications per step and channel) load only when opened.
 */
import { useEffect, useState } from 'preact/hooks';
import { post } from '../api.ts';
import { href } from '../router.tsx';
import { Can } from '../session.tsx';
import { ErrorBox, useAction } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { formatAgo, formatTime } from '../ui/format.ts';
import { Badge } from '../ui/layout.tsx';
import { AlertEscalation } from './alert-escalation.tsx';
import type { AlertView } from './alerts.tsx';

const COLUMNS = 9;

export function AlertRow(props: { alert: AlertView }) {
  const [updated, setUpdated] = useState<AlertView | undefined>(undefined);
  const [open, setOpen] = useState(false);
  useEffect(() => setUpdated(undefined), [props.alert]);
  const alert = updated ?? props.alert;
  const confirm = useConfirm();
  const action = useAction(async (verb: 'acknowledge' | 'resolve') => {
    let note = '';
    const ok = await confirm.ask({
      title: `${verb === 'acknowledge' ? 'Acknowledge' : 'Resolve'} “${alert.title}”?`,
      body: (
        <>
          <p>
            {verb === 'acknowledge'
              ? 'Acknowledging says someone is on it: escalation steps not yet sent are cancelled. The alert stays until it is resolved.'
              : 'Resolving closes the alert. If the problem comes back, a new alert opens.'}
          </p>
          <label>
            Note (optional, kept in the alert's history)
            <textarea
              name="note"
              rows={3}
              maxLength={1000}
              onInput={(e) => {
                note = e.currentTarget.value;
              }}
            />
          </label>
        </>
      ),
      confirmLabel: verb === 'acknowledge' ? 'Acknowledge' : 'Resolve',
    });
    if (!ok) return;
    const body = note.trim() === '' ? {} : { note: note.trim() };
    setUpdated(await post<AlertView>(`/api/v1/alerts/${encodeURIComponent(alert.id)}/${verb}`, body));
  });

  return (
    <>
      <tr data-alert-id={alert.id} data-state={alert.state}>
        <td>
          <Badge value={alert.severity} />
        </td>
        <td>
          <Badge value={alert.state} />
        </td>
        <td class="alert-subject">
          <Subject subject={alert.subject} />
        </td>
        <td class="alert-what">
          <strong>{alert.title}</strong>
          <div class="muted">
            <code>{alert.rule}</code>
            {alert.detail !== '' ? ` · ${alert.detail}` : null}
          </div>
          <ErrorBox error={action.error} />
        </td>
        <td class="num">{alert.raiseCount}</td>
        <td title={formatTime(alert.openedAtMs)}>{formatAgo(alert.openedAtMs)}</td>
        <td title={formatTime(alert.lastRaisedAtMs)}>{formatAgo(alert.lastRaisedAtMs)}</td>
        <td>
          <EscalationSummary alert={alert} />
          <button type="button" class="link-button" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? 'Hide notifications' : 'Notifications…'}
          </button>
        </td>
        <td class="row-actions">
          <Can permission="alerts:write">
            {alert.state === 'open' ? (
              <button
                type="button"
                data-testid="alert-ack"
                disabled={action.busy}
                onClick={() => void action.run('acknowledge')}
              >
                Acknowledge
              </button>
            ) : null}
            {alert.state !== 'resolved' ? (
              <button
                type="button"
                data-testid="alert-resolve"
                disabled={action.busy}
                onClick={() => void action.run('resolve')}
              >
                Resolve
              </button>
            ) : null}
          </Can>
          {confirm.dialog}
        </td>
      </tr>
      {open ? (
        <tr class="alert-detail">
          <td colSpan={COLUMNS}>
            <AlertEscalation alert={alert} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Subject(props: { subject: AlertView['subject'] }) {
  const { kind, id } = props.subject;
  switch (kind) {
    case 'device':
      return (
        <>
          <span class="muted">device </span>
          <a href={href(`/devices/${encodeURIComponent(id)}`)}>{id}</a>
        </>
      );
    case 'rollout':
      return (
        <>
          <span class="muted">rollout </span>
          <a href={href(`/rollouts/${encodeURIComponent(id)}`)}>{id}</a>
        </>
      );
    case 'group':
      return (
        <>
          <span class="muted">group </span>
          <a href={href('/devices', { where: `group = "${id}"` })}>{id}</a>
        </>
      );
    case 'fleet':
      return <span>whole fleet</span>;
  }
}

/** What the state says about escalation without asking the server (the details are one click away). */
function EscalationSummary(props: { alert: AlertView }) {
  const { alert } = props;
  if (alert.state === 'resolved')
    return (
      <div class="muted">
        ended: resolved by {alert.resolvedBy ?? '—'} {formatAgo(alert.resolvedAtMs)}
      </div>
    );
  if (alert.state === 'acknowledged')
    return (
      <div class="muted">
        stopped: acknowledged by {alert.acknowledgedBy ?? '—'} {formatAgo(alert.acknowledgedAtMs)}
      </div>
    );
  return <div>running ({alert.severity} policy)</div>;
}
