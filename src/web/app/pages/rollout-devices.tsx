/**
 * Devices per state of a rollout: a stacked bar per stage (where its devices are) and the totals,
 * with links to the device list of the model on the new version and on any other version.
 */
import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'preact/hooks';
import { href } from '../router.tsx';
import { ChartView } from '../ui/chart.tsx';
import { formatNumber } from '../ui/format.ts';
import { Card } from '../ui/layout.tsx';
import { deviceStates, orderedCounts, stageSize, type RolloutView } from './rollout-format.ts';

/** Devices per state of each stage: executions by state plus those not started yet. */
function stageCounts(view: RolloutView): Array<Record<string, number>> {
  return view.stages.map((s) => ({
    ...s.summary.byState,
    ...(s.summary.notStarted > 0 ? { 'not-started': s.summary.notStarted } : {}),
    ...(s.skipped > 0 ? { skipped: s.skipped } : {}),
  }));
}

function chartConfig(view: RolloutView): ChartConfiguration {
  const perStage = stageCounts(view);
  const present = new Set(perStage.flatMap((counts) => Object.keys(counts)));
  const datasets = deviceStates
    .filter((s) => present.has(s.state))
    .map((s) => ({
      label: s.label,
      data: perStage.map((counts) => counts[s.state] ?? 0),
      backgroundColor: s.color,
    }));
  return {
    type: 'bar',
    data: {
      labels: view.rollout.spec.stages.map((stage, i) => `Stage ${i + 1} (${stageSize(stage)})`),
      datasets,
    },
    options: {
      indexAxis: 'y',
      scales: {
        x: {
          stacked: true,
          beginAtZero: true,
          ticks: { precision: 0 },
          title: { display: true, text: 'devices' },
        },
        y: { stacked: true },
      },
      plugins: { legend: { position: 'bottom' } },
    },
  };
}

/** A fleet-query link to the devices list (`firmware = "x"` compares the exact text). */
function devicesLink(view: RolloutView, onVersion: boolean): string {
  const { model, version } = view.rollout.spec.release;
  const selector = view.rollout.spec.selector.where;
  const firmware = `firmware ${onVersion ? '=' : '!='} ${JSON.stringify(version)}`;
  const where = `model = ${JSON.stringify(model)} and ${firmware}${selector === undefined ? '' : ` and (${selector})`}`;
  return href('/devices', { where });
}

export function DevicesCard(props: { view: RolloutView }) {
  const { view } = props;
  const config = useMemo(() => chartConfig(view), [view]);
  const totals = orderedCounts(view.devices);
  const total = totals.reduce((sum, r) => sum + r.count, 0);
  const height = 60 + 34 * view.rollout.spec.stages.length;
  return (
    <Card title={`Devices (${formatNumber(total)})`} testid="card-devices">
      {total === 0 ? (
        <p class="muted">This rollout has no devices.</p>
      ) : (
        <>
          <ChartView config={config} height={height} label="Devices per state in each stage" />
          <table class="rollout-device-states">
            <tbody>
              {totals.map((r) => (
                <tr key={r.state} data-state={r.state}>
                  <td>
                    <span class="swatch" style={{ background: r.color }} /> {r.label}
                  </td>
                  <td class="num">{formatNumber(r.count)}</td>
                  <td class="muted small">{r.hint}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <p class="small">
        Device list: <a href={devicesLink(view, true)}>on {view.rollout.spec.release.version}</a> ·{' '}
        <a href={devicesLink(view, false)}>not on it yet</a>
      </p>
    </Card>
  );
}
