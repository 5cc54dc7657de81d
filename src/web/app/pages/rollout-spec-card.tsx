/**
 * What the rollout was asked to do: which devices, the gates' thresholds, the start rate and the
 * maintenance windows, so "why is it waiting" can be answered on the page (docs/rollouts.md).
 */
import { formatPct } from '../ui/format.ts';
import { Card } from '../ui/layout.tsx';
import { formatHold, type Rollout } from './rollout-format.ts';

/** The structured selector fields that are set, as `regions: eu-west, eu-north`. */
function selectorFacts(selector: Rollout['spec']['selector']): string[] {
  const facts: string[] = [];
  for (const [field, value] of Object.entries(selector)) {
    if (field === 'where' || value === undefined) continue;
    if (Array.isArray(value)) facts.push(`${field}: ${value.join(', ')}`);
    else if (typeof value === 'object' && value !== null)
      facts.push(
        `${field}: ${Object.entries(value)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')}`,
      );
    else facts.push(`${field}: ${String(value)}`);
  }
  return facts;
}

export function SpecCard(props: { rollout: Rollout }) {
  const { spec } = props.rollout;
  const { gates } = spec;
  const health = gates.healthRegression;
  const selector = selectorFacts(spec.selector);
  return (
    <Card title="Settings" testid="card-spec">
      <dl class="facts">
        <dt>Devices</dt>
        <dd>
          every {spec.release.model} device
          {spec.selector.where !== undefined ? (
            <>
              {' '}
              matching <code>{spec.selector.where}</code>
            </>
          ) : null}
          {selector.length > 0 ? <> with {selector.join('; ')}</> : null}
        </dd>
        <dt>Gates per stage</dt>
        <dd>
          at least {gates.minReported} reported · success ≥ {formatPct(gates.minSuccessRate * 100)} · failures
          ≤ {formatPct(gates.maxFailureRate * 100)} · stuck after {formatHold(gates.stuckTimeoutS)}
        </dd>
        <dt>Health regression</dt>
        <dd>
          {health.enabled
            ? `on: ${Object.entries(health.metrics)
                .map(([metric, ratio]) => `${metric} ≤ ×${ratio}`)
                .join(', ')} (window ${formatHold(health.windowS)})`
            : 'off'}
        </dd>
        <dt>Start rate</dt>
        <dd>
          {spec.maxStartsPerMinute === null
            ? 'no limit'
            : `at most ${spec.maxStartsPerMinute} devices per minute`}
        </dd>
        <dt>Maintenance windows</dt>
        <dd>
          {spec.maintenanceWindows.length === 0
            ? 'none: devices install as soon as they have downloaded'
            : spec.maintenanceWindows
                .map((w) => `${w.cron} (${w.timezone}) for ${formatHold(w.durationS)}`)
                .join('; ')}
        </dd>
        {spec.mandatory ? (
          <>
            <dt>Mandatory</dt>
            <dd>hold times are skipped; the gates still apply</dd>
          </>
        ) : null}
      </dl>
    </Card>
  );
}
