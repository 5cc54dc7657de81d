/**
 * Creating or editing an alert rule: the common shapes as fields (a metric against up to three
 * severity levels, or a fleet query with one severity), and the full rule as JSON for anything
 * else. The API checks the rule as a whole; its refusal is shown in place, next to the field it
 * names when it names one.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { storedAlertRuleSchema } from '../../../api/routes/alert-rules.ts';
import { api, type ApiError } from '../api.ts';
import { ErrorBox, useAction } from '../ui/async.tsx';

export type StoredRule = z.infer<typeof storedAlertRuleSchema>;
type Rule = StoredRule['rule'];

const severities = ['info', 'warning', 'critical'] as const;
const operators = ['<', '<=', '>', '>='] as const;
const metricsByTarget: Record<Rule['target'], readonly string[]> = {
  device: ['battery', 'signal', 'temperature', 'error_rate', 'offline_for'],
  fleet: ['online_pct', 'firmware_current_pct', 'error_rate'],
  group: ['online_pct', 'firmware_current_pct', 'error_rate'],
};

interface Draft {
  name: string;
  description: string;
  enabled: boolean;
  target: Rule['target'];
  kind: 'metric' | 'query';
  metric: string;
  operator: string;
  levels: Array<{ severity: string; threshold: string }>;
  query: string;
  severity: string;
  for: string;
  repeat: string;
  scope: string;
}

const emptyDraft: Draft = {
  name: '',
  description: '',
  enabled: true,
  target: 'device',
  kind: 'metric',
  metric: 'battery',
  operator: '<',
  levels: [
    { severity: 'warning', threshold: '20' },
    { severity: '', threshold: '' },
    { severity: '', threshold: '' },
  ],
  query: '',
  severity: 'warning',
  for: '10m',
  repeat: '1',
  scope: '',
};

function draftOf(rule: Rule): Draft {
  const levels: Draft['levels'] = (rule.levels ?? []).map((l) => ({
    severity: l.severity,
    threshold: String(l.threshold),
  }));
  while (levels.length < 3) levels.push({ severity: '', threshold: '' });
  return {
    name: rule.name,
    description: rule.description,
    enabled: rule.enabled,
    target: rule.target,
    kind: rule.query === undefined ? 'metric' : 'query',
    metric: rule.metric ?? '',
    operator: rule.operator ?? '<',
    levels,
    query: rule.query ?? '',
    severity: rule.severity ?? 'warning',
    for: rule.for,
    repeat: String(rule.repeat),
    scope: rule.scope ?? '',
  };
}

/** Numbers stay numbers (`24h` stays text: offline_for thresholds are durations). */
const thresholdOf = (text: string): number | string =>
  text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text.trim();

function ruleOf(draft: Draft): Record<string, unknown> {
  const rule: Record<string, unknown> = {
    name: draft.name.trim(),
    description: draft.description,
    enabled: draft.enabled,
    target: draft.target,
    for: draft.for.trim() === '' ? '0s' : draft.for.trim(),
    repeat: Number(draft.repeat) || 1,
  };
  if (draft.kind === 'query') {
    rule['query'] = draft.query;
    rule['severity'] = draft.severity;
  } else {
    rule['metric'] = draft.metric.trim();
    rule['operator'] = draft.operator;
    rule['levels'] = draft.levels
      .filter((l) => l.severity !== '' && l.threshold.trim() !== '')
      .map((l) => ({ severity: l.severity, threshold: thresholdOf(l.threshold) }));
  }
  if (draft.scope.trim() !== '') rule['scope'] = draft.scope.trim();
  return rule;
}

/** `body.levels.0.threshold` → message, from the API's validation details. */
function fieldErrors(error: ApiError | undefined): Map<string, string> {
  const issues = error?.details?.['issues'];
  const map = new Map<string, string>();
  if (!Array.isArray(issues)) return map;
  for (const issue of issues as Array<{ field?: string; message?: string }>)
    if (issue.field !== undefined) map.set(issue.field.replace(/^body\.?/, ''), issue.message ?? '');
  return map;
}

export function AlertRuleForm(props: { stored: StoredRule | undefined; onDone(saved: boolean): void }) {
  const editing = props.stored !== undefined;
  const [draft, setDraft] = useState<Draft>(props.stored ? draftOf(props.stored.rule) : emptyDraft);
  const [json, setJson] = useState<string | undefined>(undefined);
  const [jsonError, setJsonError] = useState<string | undefined>(undefined);
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const setLevel = (index: number, patch: Partial<Draft['levels'][number]>) =>
    set({ levels: draft.levels.map((l, i) => (i === index ? { ...l, ...patch } : l)) });

  const save = useAction(async (rule: Record<string, unknown>) => {
    if (editing) {
      const patch = { ...rule };
      delete patch['name'];
      await api('PATCH', `/api/v1/alert-rules/${encodeURIComponent(props.stored?.rule.name ?? '')}`, patch);
    } else await api('POST', '/api/v1/alert-rules', rule);
    props.onDone(true);
  });
  const errors = fieldErrors(save.error);
  const FieldError = (p: { field: string }) =>
    errors.has(p.field) ? <span class="field-error">{errors.get(p.field)}</span> : null;

  const parseJson = (): Record<string, unknown> | undefined => {
    try {
      const value: unknown = JSON.parse(json ?? '');
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('the rule is a JSON object');
      setJsonError(undefined);
      return value as Record<string, unknown>;
    } catch (err) {
      setJsonError((err as Error).message);
      return undefined;
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const rule = json === undefined ? ruleOf(draft) : parseJson();
    if (rule !== undefined) void save.run(rule);
  };
  const toggleJson = () => {
    if (json === undefined) {
      setJson(JSON.stringify(ruleOf(draft), null, 2));
      return;
    }
    const rule = parseJson();
    if (rule === undefined) return;
    // Fields the JSON leaves out keep the form's defaults; the API checks the rest on save.
    setDraft(draftOf({ ...ruleOf(emptyDraft), ...rule } as Rule));
    setJson(undefined);
  };

  return (
    <form class="stack rule-form" data-testid="rule-form" onSubmit={submit}>
      <h3>{editing ? `Edit rule ${props.stored?.rule.name}` : 'New alert rule'}</h3>
      {json !== undefined ? (
        <label>
          The full rule as JSON (fields in docs/alerts.md, “Alert rules”)
          <textarea name="rule-json" rows={14} value={json} onInput={(e) => setJson(e.currentTarget.value)} />
          {jsonError !== undefined ? <span class="field-error">Not valid JSON: {jsonError}</span> : null}
        </label>
      ) : (
        <RuleFields draft={draft} editing={editing} set={set} setLevel={setLevel} FieldError={FieldError} />
      )}
      <ErrorBox error={save.error} title="The rule was refused" />
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy} data-testid="rule-save">
          {editing ? 'Save rule' : 'Create rule'}
        </button>
        <button type="button" onClick={toggleJson}>
          {json === undefined ? 'Edit as JSON' : 'Back to fields'}
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RuleFields(props: {
  draft: Draft;
  editing: boolean;
  set: (patch: Partial<Draft>) => void;
  setLevel: (index: number, patch: Partial<Draft['levels'][number]>) => void;
  FieldError: (p: { field: string }) => JSX.Element | null;
}) {
  const { draft, set, FieldError } = props;
  return (
    <>
      <div class="row">
        <label>
          Name
          <input
            name="name"
            value={draft.name}
            disabled={props.editing}
            placeholder="battery-low-berlin"
            onInput={(e) => set({ name: e.currentTarget.value })}
          />
          <FieldError field="name" />
        </label>
        <label class="grow">
          Description
          <input
            name="description"
            value={draft.description}
            onInput={(e) => set({ description: e.currentTarget.value })}
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="enabled"
            checked={draft.enabled}
            onChange={(e) => set({ enabled: e.currentTarget.checked })}
          />{' '}
          Enabled
        </label>
      </div>
      <div class="row">
        <label>
          Watches
          <select
            name="target"
            value={draft.target}
            onChange={(e) => {
              const target = e.currentTarget.value as Draft['target'];
              set({
                target,
                metric: metricsByTarget[target][0] ?? '',
                kind: target === 'device' ? draft.kind : 'metric',
              });
            }}
          >
            <option value="device">each device</option>
            <option value="fleet">the whole fleet</option>
            <option value="group">each saved group</option>
          </select>
        </label>
        {draft.target === 'device' ? (
          <label>
            Condition
            <select
              name="kind"
              value={draft.kind}
              onChange={(e) => set({ kind: e.currentTarget.value as Draft['kind'] })}
            >
              <option value="metric">a metric beyond a threshold</option>
              <option value="query">a fleet query matches</option>
            </select>
          </label>
        ) : null}
        <label>
          For at least
          <input name="for" value={draft.for} size={6} onInput={(e) => set({ for: e.currentTarget.value })} />
          <FieldError field="for" />
        </label>
        <label>
          Or on N evaluations
          <input
            name="repeat"
            type="number"
            min={1}
            value={draft.repeat}
            onInput={(e) => set({ repeat: e.currentTarget.value })}
          />
          <FieldError field="repeat" />
        </label>
      </div>
      {draft.kind === 'query' ? (
        <div class="row">
          <label class="grow">
            Fleet query a device must match
            <input
              name="query"
              class="mono"
              value={draft.query}
              placeholder='status = "offline" and tag.env = "production"'
              onInput={(e) => set({ query: e.currentTarget.value })}
            />
            <FieldError field="query" />
          </label>
          <label>
            Severity
            <select
              name="severity"
              value={draft.severity}
              onChange={(e) => set({ severity: e.currentTarget.value })}
            >
              {severities.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        </div>
      ) : (
        <div class="row">
          <label>
            Metric
            <input
              name="metric"
              list="rule-metrics"
              value={draft.metric}
              onInput={(e) => set({ metric: e.currentTarget.value })}
            />
            <datalist id="rule-metrics">
              {metricsByTarget[draft.target].map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
            <FieldError field="metric" />
          </label>
          <label>
            Operator
            <select
              name="operator"
              value={draft.operator}
              onChange={(e) => set({ operator: e.currentTarget.value })}
            >
              {operators.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </label>
          {draft.levels.map((level, index) => (
            <label key={index}>
              Level {index + 1}
              <span class="level">
                <select
                  name={`level-${index}-severity`}
                  value={level.severity}
                  onChange={(e) => props.setLevel(index, { severity: e.currentTarget.value })}
                >
                  <option value="">{index === 0 ? 'severity' : 'unused'}</option>
                  {severities.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
                <input
                  name={`level-${index}-threshold`}
                  size={5}
                  value={level.threshold}
                  placeholder="threshold"
                  onInput={(e) => props.setLevel(index, { threshold: e.currentTarget.value })}
                />
              </span>
              <FieldError field={`levels.${index}.threshold`} />
            </label>
          ))}
          <FieldError field="levels" />
        </div>
      )}
      <label>
        Only devices matching (optional fleet query)
        <input
          name="scope"
          class="mono"
          value={draft.scope}
          placeholder='tag.env = "production"'
          onInput={(e) => set({ scope: e.currentTarget.value })}
        />
        <FieldError field="scope" />
      </label>
    </>
  );
}
