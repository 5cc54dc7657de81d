/**
 * What the rollout pages share: the API's answer types (inferred from the server's route schemas,
 * type-only imports) and how a stage, a gate and a pause reason read in a sentence.
 */
import type { z } from 'zod';
import type { rolloutSchema, rolloutViewSchema } from '../../../api/routes/rollouts.ts';
import { formatPct } from '../ui/format.ts';

export type Rollout = z.infer<typeof rolloutSchema>;
export type RolloutView = z.infer<typeof rolloutViewSchema>;
export type RolloutStatus = Rollout['state']['status'];
export type StageView = RolloutView['stages'][number];
export type GateView = StageView['gates'][number];
export type TimelineEvent = RolloutView['timeline'][number];
export type PauseReason = NonNullable<Rollout['state']['pauseReason']>;

export const rolloutStatuses: readonly RolloutStatus[] = [
  'running',
  'waiting-approval',
  'paused',
  'completed',
  'cancelled',
];

export function isFinal(status: RolloutStatus): boolean {
  return status === 'completed' || status === 'cancelled';
}

/** `1 device`, `3 devices` (thousands separated). */
export function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

/** `tracker-2 2.5.0` */
export function releaseLabel(rollout: Rollout): string {
  return `${rollout.spec.release.model} ${rollout.spec.release.version}`;
}

/** `stage 2 of 4` */
export function stageProgress(rollout: Rollout): string {
  return `${rollout.state.stageIndex + 1} of ${rollout.spec.stages.length}`;
}

/** A stage's cumulative size: `10 %` or `50 devices`. */
export function stageSize(stage: Rollout['spec']['stages'][number]): string {
  return stage.count !== undefined ? `${stage.count} devices` : `${stage.percent ?? 100} %`;
}

/** `1 h 30 min`, `60 s`, `0 s`: hold times are whole seconds. */
export function formatHold(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days > 0) parts.push(`${days} d`);
  if (hours > 0) parts.push(`${hours} h`);
  if (minutes > 0) parts.push(`${minutes} min`);
  if (rest > 0) parts.push(`${rest} s`);
  return parts.join(' ');
}

/**
 * A gate's value as its kind reads: min-reported is a device count, the rates are fractions of
 * the stage, health regression a ratio of updated to not-yet-updated devices (docs/rollouts.md).
 */
export function formatGateNumber(gate: GateView['gate'], value: number | null): string {
  if (value === null) return '—';
  switch (gate) {
    case 'min-reported':
      return String(value);
    case 'success-rate':
    case 'failure-rate':
      return formatPct(value * 100);
    case 'health-regression':
      return `×${value.toFixed(2)}`;
  }
}

const gateComparisons: Record<GateView['gate'], string> = {
  'min-reported': '≥',
  'success-rate': '≥',
  'failure-rate': '≤',
  'health-regression': '≤',
};

/** `97.0 % (needs ≥ 95.0 %)` */
export function gateComparison(gate: GateView['gate'], value: number | null, threshold: number): string {
  return `${formatGateNumber(gate, value)} (needs ${gateComparisons[gate]} ${formatGateNumber(gate, threshold)})`;
}

export const gateLabels: Record<GateView['gate'], string> = {
  'min-reported': 'Devices reported',
  'success-rate': 'Success rate',
  'failure-rate': 'Failure rate',
  'health-regression': 'Health regression',
};

const startKinds: ReadonlySet<TimelineEvent['kind']> = new Set(['created', 'stage-started', 'approved']);

/**
 * When each of `stageCount` stages started and ended (ms), from the timeline: created,
 * stage-started and approved start a stage, which ends when the next one starts or at completed.
 */
export function stageTimes(
  stageCount: number,
  timeline: readonly TimelineEvent[],
): Array<{ startedMs?: number; finishedMs?: number }> {
  const times = Array.from({ length: stageCount }, (): { startedMs?: number; finishedMs?: number } => ({}));
  for (const event of timeline) {
    const stage = times[event.stageIndex];
    if (stage === undefined) continue;
    if (startKinds.has(event.kind) && stage.startedMs === undefined) {
      stage.startedMs = event.atMs;
      const previous = times[event.stageIndex - 1];
      if (previous !== undefined) previous.finishedMs ??= event.atMs;
    }
    if (event.kind === 'completed') stage.finishedMs ??= event.atMs;
  }
  return times;
}

/** One sentence: which gate stopped it with what value, or which operator and why. */
export function pauseReasonText(reason: PauseReason): string {
  if (reason.kind === 'operator') return `Paused by ${reason.actor}: ${reason.message}`;
  return `Gate ${gateLabels[reason.gate].toLowerCase()} failed at ${gateComparison(reason.gate, reason.value, reason.threshold)}: ${reason.message}`;
}

/**
 * Device states in the order an update goes through them, with what each means for an
 * operator; `not-started` and `skipped` are the rollout's own (no execution yet, or left out).
 */
export const deviceStates: ReadonlyArray<{ state: string; label: string; hint: string; color: string }> = [
  { state: 'success', label: 'updated', hint: 'installed and passed its health check', color: '#009E73' },
  { state: 'verifying', label: 'verifying', hint: 'booted the new image, checking health', color: '#56B4E9' },
  { state: 'rebooting', label: 'rebooting', hint: 'restarting into the new image', color: '#56B4E9' },
  { state: 'installing', label: 'installing', hint: 'writing the image', color: '#0072B2' },
  {
    state: 'downloaded',
    label: 'downloaded',
    hint: 'waiting for its maintenance window or update lock',
    color: '#7fb3d5',
  },
  { state: 'downloading', label: 'downloading', hint: 'fetching the image or delta', color: '#0072B2' },
  { state: 'offered', label: 'offered', hint: 'offline or has not polled yet', color: '#E69F00' },
  { state: 'failed', label: 'failed', hint: 'the update failed', color: '#D55E00' },
  {
    state: 'rolled-back',
    label: 'rolled back',
    hint: 'the new image failed its health check',
    color: '#CC79A7',
  },
  { state: 'cancelled', label: 'cancelled', hint: 'offer withdrawn or replaced', color: '#999999' },
  { state: 'skipped', label: 'skipped', hint: 'cannot take this release', color: '#F0E442' },
  {
    state: 'not-started',
    label: 'not started',
    hint: 'in a later stage or held by the rate limit',
    color: '#cfd4dc',
  },
];

/** The counts in `deviceStates` order, unknown states last, zero counts left out. */
export function orderedCounts(
  counts: Record<string, number>,
): Array<{ state: string; label: string; hint: string; color: string; count: number }> {
  const known = new Set(deviceStates.map((s) => s.state));
  const rows = deviceStates.map((s) => ({ ...s, count: counts[s.state] ?? 0 }));
  for (const [state, count] of Object.entries(counts))
    if (!known.has(state)) rows.push({ state, label: state, hint: state, color: '#999999', count });
  return rows.filter((r) => r.count > 0);
}

/** `12 updated · 3 downloading · 15 not started` */
export function countsSummary(counts: Record<string, number>): string {
  const rows = orderedCounts(counts);
  return rows.length === 0 ? 'no devices' : rows.map((r) => `${r.count} ${r.label}`).join(' · ');
}
