/**
 * The alert rules card: every rule (shipped defaults and the operators' own) with its condition,
 * severities and whether it is on; create, edit and delete for `alert-rules:write`. Escalation
 * policies are per severity and set in the server's configuration, so each rule shows which
 * severities' chains its alerts start.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { del, get } from '../api.ts';
import { Can } from '../session.tsx';
import { ErrorBox, Loading, useAction, useAsync } from '../ui/async.tsx';
import { useConfirm } from '../ui/confirm.tsx';
import { Badge, Card } from '../ui/layout.tsx';
import { AlertRuleForm, type StoredRule } from './alert-rule-form.tsx';

type Rule = StoredRule['rule'];

function condition(rule: Rule): string {
  if (rule.query !== undefined) return `matches ${rule.query}`;
  const levels = (rule.levels ?? []).map((l) => `${l.threshold} (${l.severity})`).join(', ');
  return `${rule.metric ?? '?'} ${rule.operator ?? '?'} ${levels}`;
}

function severitiesOf(rule: Rule): string[] {
  return rule.severity !== undefined ? [rule.severity] : (rule.levels ?? []).map((l) => l.severity);
}

function holds(rule: Rule): string {
  if (rule.repeat > 1) return `${rule.repeat} evaluations`;
  return rule.for === '0s' ? 'at once' : `for ${rule.for}`;
}

export function AlertRulesCard() {
  const rules = useAsync(() => get<{ items: StoredRule[] }>('/api/v1/alert-rules'), []);
  /** The name of the rule being edited, or `new`. */
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const confirm = useConfirm();
  const remove = useAction(async (name: string) => {
    const ok = await confirm.ask({
      title: `Delete the rule ${name}?`,
      body: <p>The rule stops being evaluated and the alerts it raised are resolved.</p>,
      confirmLabel: 'Delete rule',
      danger: true,
    });
    if (!ok) return;
    await del(`/api/v1/alert-rules/${encodeURIComponent(name)}`);
    rules.reload();
  });
  const done = (saved: boolean) => {
    setEditing(undefined);
    if (saved) rules.reload();
  };
  const stored = rules.data?.items.find((r) => r.rule.name === editing);

  return (
    <Card title="Alert rules" testid="card-rules">
      <p class="muted">
        Rules are evaluated continuously; when a condition holds long enough, an alert opens for the device,
        group or fleet. Notifications then follow the escalation policy of the alert's severity (server
        configuration <code>alerts.escalation</code>).
      </p>
      <Can permission="alert-rules:write">
        <div class="actions">
          <button type="button" class="primary" data-testid="new-rule" onClick={() => setEditing('new')}>
            New rule
          </button>
        </div>
      </Can>
      {editing === 'new' ? <AlertRuleForm stored={undefined} onDone={done} /> : null}
      <ErrorBox error={rules.error} title="Could not load the rules" />
      <ErrorBox error={remove.error} title="Not deleted" />
      {rules.data === undefined ? (
        rules.error === undefined ? (
          <Loading what="rules" />
        ) : null
      ) : rules.data.items.length === 0 ? (
        <p class="muted">No rules: nothing raises alerts except rollouts. Create one with “New rule”.</p>
      ) : (
        <div class="table-scroll">
          <table class="rule-table">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Watches</th>
                <th>Condition</th>
                <th>Holds</th>
                <th>Severity → escalation</th>
                <th>Enabled</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rules.data.items.map(({ rule, origin }) => (
                <Fragment key={rule.name}>
                  <tr data-rule-name={rule.name}>
                    <td>
                      <strong>{rule.name}</strong>
                      {origin === 'default' ? <span class="muted"> (shipped)</span> : null}
                      <div class="muted">{rule.description}</div>
                    </td>
                    <td>
                      {rule.target === 'device'
                        ? 'each device'
                        : rule.target === 'fleet'
                          ? 'fleet'
                          : 'groups'}
                      {rule.scope !== undefined ? (
                        <div class="muted">
                          where <code>{rule.scope}</code>
                        </div>
                      ) : null}
                    </td>
                    <td>
                      <code>{condition(rule)}</code>
                    </td>
                    <td>{holds(rule)}</td>
                    <td>
                      {severitiesOf(rule).map((s) => (
                        <Badge key={s} value={s} />
                      ))}
                      <div class="muted">{'policy per severity'}</div>
                    </td>
                    <td>{rule.enabled ? <Badge value="on" kind="success" /> : <Badge value="off" />}</td>
                    <td class="row-actions">
                      <Can permission="alert-rules:write">
                        <button type="button" data-testid="rule-edit" onClick={() => setEditing(rule.name)}>
                          Edit
                        </button>
                        <button
                          type="button"
                          data-testid="rule-delete"
                          disabled={remove.busy}
                          onClick={() => void remove.run(rule.name)}
                        >
                          Delete
                        </button>
                      </Can>
                    </td>
                  </tr>
                  {editing === rule.name && stored !== undefined ? (
                    <tr class="rule-edit-row">
                      <td colSpan={7}>
                        <AlertRuleForm stored={stored} onDone={done} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirm.dialog}
    </Card>
  );
}
