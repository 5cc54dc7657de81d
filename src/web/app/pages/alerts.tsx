/**
 * Alerts (`#/alerts?state=open&severity=critical`): the alerts an operator acts on, filtered by
 * state and severity, a page of 50 at a time, each with acknowledge/resolve and its escalation;
 * below, the rules that raise them (alert-rules.tsx).
 */
import type { z } from 'zod';
import type { alertSchema } from '../../../api/routes/alerts.ts';
import { get } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { replaceQuery } from '../router.tsx';
import { ErrorBox, Loading, useAsync } from '../ui/async.tsx';
import { Pager, useCursorPages } from '../ui/cursor-pager.tsx';
import { Card, PageHeader } from '../ui/layout.tsx';
import { AlertRow } from './alert-row.tsx';
import { AlertRulesCard } from './alert-rules.tsx';

export type AlertView = z.infer<typeof alertSchema>;
interface AlertList {
  items: AlertView[];
  nextCursor?: string;
}

const PAGE_SIZE = 50;
const stateChoices = [
  ['unresolved', 'Open or acknowledged'],
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
  ['', 'Any state'],
] as const;
const severityChoices = [
  ['', 'Any severity'],
  ['critical', 'Critical'],
  ['warning', 'Warning'],
  ['info', 'Info'],
] as const;

export function AlertsPage(props: PageProps) {
  const state = props.query.get('state') ?? 'unresolved';
  const severity = props.query.get('severity') ?? '';
  const pages = useCursorPages(`${state}|${severity}`);
  const list = useAsync(
    () =>
      get<AlertList>('/api/v1/alerts', {
        state,
        severity,
        limit: PAGE_SIZE,
        cursor: pages.cursor,
      }),
    [state, severity, pages.cursor],
  );
  const setFilter = (next: { state?: string; severity?: string }) =>
    replaceQuery({ state, severity, ...next });

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle="Problems that need attention, newest first. Acknowledge an alert to stop its escalation; resolve it when it is dealt with."
      >
        <button type="button" onClick={() => list.reload()} disabled={list.loading}>
          Refresh
        </button>
      </PageHeader>
      <Card>
        <div class="row alert-filters">
          <label>
            State
            <select name="state" value={state} onChange={(e) => setFilter({ state: e.currentTarget.value })}>
              {stateChoices.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Severity
            <select
              name="severity"
              value={severity}
              onChange={(e) => setFilter({ severity: e.currentTarget.value })}
            >
              {severityChoices.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorBox error={list.error} title="Could not load the alerts" />
        {list.data === undefined ? (
          list.error === undefined ? (
            <Loading what="alerts" />
          ) : null
        ) : (
          <AlertTable items={list.data.items} filtered={state !== '' || severity !== ''} />
        )}
        <Pager pages={pages} nextCursor={list.data?.nextCursor} shown={list.data?.items.length ?? 0} />
      </Card>
      <AlertRulesCard />
    </>
  );
}

function AlertTable(props: { items: AlertView[]; filtered: boolean }) {
  if (props.items.length === 0)
    return (
      <p class="muted empty" data-testid="alert-table-empty">
        No alerts{props.filtered ? ' match these filters' : ''}. Alerts open when a rule below fires (a low
        battery, devices offline, a rollout gate failing) and appear here.
      </p>
    );
  return (
    <div class="table-scroll">
      <table data-testid="alert-table" class="alert-table">
        <thead>
          <tr>
            <th>Severity</th>
            <th>State</th>
            <th>Subject</th>
            <th>Rule and detail</th>
            <th class="num" title="Times raised while unresolved">
              Count
            </th>
            <th>First raised</th>
            <th>Last raised</th>
            <th>Escalation</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.items.map((alert) => (
            <AlertRow key={alert.id} alert={alert} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
