/**
 * OTA decisions: partition scheme, delivery format, rollback and staged rollout, each with its
 * reason, and the findings when requirements and configuration contradict each other. Pure.
 */
import type { BenchmarkFigures } from './benchmarks.ts';
import type { Decision, Finding } from './findings.ts';
import type { PlanInput } from './input-schema.ts';
import type { LinkProfile } from './link.ts';
import { fmtDuration, fmtNumber } from './format.ts';

export type PartitionScheme = 'a/b' | 'single+recovery' | 'single';

export interface OtaPlan {
  scheme: PartitionScheme;
  /** Deltas are the only delivery allowed (metered or narrow-band link). */
  deltasMandatory: boolean;
  /** Fraction of a full image a device downloads per update (1 = full images). */
  downloadFraction: number;
  automaticRollback: boolean;
  decisions: Decision[];
  findings: Finding[];
}

function partition(input: PlanInput, link: LinkProfile, out: OtaPlan): void {
  const { flashMiB, recoveryPartitionMiB } = input.hardware.storage;
  const image = input.firmware.imageMiB;
  const forSlots = flashMiB - recoveryPartitionMiB;
  if (forSlots >= 2 * image) {
    out.scheme = 'a/b';
    out.decisions.push({
      topic: 'partition scheme',
      choice: `two slots (A/B), ${fmtNumber(image)} MiB each`,
      reason: `${fmtNumber(forSlots)} MiB of flash for firmware holds two ${fmtNumber(image)} MiB images: the new image is written to the inactive slot while the device runs, and a failed trial boot falls back to the untouched slot`,
    });
    return;
  }
  if (recoveryPartitionMiB > 0 && forSlots >= image) {
    out.scheme = 'single+recovery';
    out.decisions.push({
      topic: 'partition scheme',
      choice: `one slot and a ${fmtNumber(recoveryPartitionMiB)} MiB recovery partition`,
      reason: `${fmtNumber(forSlots)} MiB besides the recovery partition is less than two ${fmtNumber(image)} MiB images. Risk: the running image is overwritten; a failed install boots the recovery partition, which downloads the previous release again (${fmtDuration(link.transferS(image))} for a full image on this link), so the device is out of service meanwhile`,
    });
    out.findings.push({
      severity: 'warning',
      field: 'hardware.storage',
      message:
        "Flotilla's agent implements A/B slots only (docs/update-client.md); single slot + recovery needs a BootControl backend of your own",
    });
    return;
  }
  out.scheme = 'single';
  if (flashMiB < image) {
    out.findings.push({
      severity: 'error',
      field: 'hardware.storage.flashMiB',
      message: `${fmtNumber(flashMiB)} MiB of flash cannot hold one ${fmtNumber(image)} MiB image`,
    });
  }
  out.decisions.push({
    topic: 'partition scheme',
    choice: 'one slot, no recovery partition',
    reason: `${fmtNumber(flashMiB)} MiB of flash holds neither two ${fmtNumber(image)} MiB images nor one and a recovery partition. Risk: an interrupted or bad install leaves a device that cannot boot until it is serviced by hand`,
  });
}

function delivery(input: PlanInput, link: LinkProfile, bench: BenchmarkFigures, out: OtaPlan): void {
  const configured = input.configuration.update.deltas;
  const patch = bench.deltas.releasePatchFraction;
  const image = input.firmware.imageMiB;
  out.deltasMandatory = link.metered || link.narrowBand;
  if (out.deltasMandatory) {
    out.decisions.push({
      topic: 'delivery',
      choice: 'deltas only (BSDIFF40 patches from the installed version)',
      reason: `the link is ${[link.metered ? 'metered' : '', link.narrowBand ? 'narrow-band' : ''].filter(Boolean).join(' and ')}: a full ${fmtNumber(image)} MiB image takes ${fmtDuration(link.transferS(image))}, a delta (${fmtNumber(patch * 100)} % of the image between consecutive releases, benchmarks "Firmware deltas") ${fmtDuration(link.transferS(image * patch))}`,
    });
    if (configured !== 'always')
      out.findings.push({
        severity: configured === 'never' ? 'error' : 'warning',
        field: 'configuration.update.deltas',
        message: `deltas are mandatory on this link but the configuration says "${configured}"${configured === 'auto' ? ' (a full image is sent when no delta exists)' : ''}; set "always"`,
      });
  } else {
    out.decisions.push({
      topic: 'delivery',
      choice: configured === 'never' ? 'full images' : 'deltas when available, else the full image',
      reason: `an unmetered ${fmtNumber(input.hardware.connectivity.bandwidthKbps)} kbit/s link moves a full ${fmtNumber(image)} MiB image in ${fmtDuration(link.transferS(image))}; deltas still cut server egress`,
    });
  }
  out.downloadFraction = configured === 'never' ? 1 : patch;
}

function rollback(input: PlanInput, out: OtaPlan): void {
  const { rollbackMandate, safetyCriticalUpdates } = input.regulatory;
  const update = input.configuration.update;
  const required = rollbackMandate || safetyCriticalUpdates;
  const possible = out.scheme !== 'single';
  out.automaticRollback = possible && update.enabled && update.automaticRollback && update.healthRounds > 0;
  const why = rollbackMandate
    ? 'regulation mandates it (regulatory.rollbackMandate)'
    : safetyCriticalUpdates
      ? 'updates are safety-critical (regulatory.safetyCriticalUpdates)'
      : 'a bad release must not need a site visit';
  out.decisions.push({
    topic: 'rollback',
    choice: out.automaticRollback
      ? `automatic: trial boot, ${update.healthRounds} health rounds (reach the server within ${update.connectWithinS} s), else back to the previous ${out.scheme === 'a/b' ? 'slot' : 'release from recovery'}`
      : 'none automatic',
    reason: `${required ? 'required' : 'recommended'}: ${why}`,
  });
  if (!rollbackMandate) return;
  if (!possible)
    out.findings.push({
      severity: 'error',
      field: 'regulatory.rollbackMandate',
      message:
        'rollback is mandated, but the flash holds one image and there is no recovery partition: nothing to roll back to (add flash for a second slot or a recovery partition)',
    });
  if (!update.automaticRollback)
    out.findings.push({
      severity: 'error',
      field: 'configuration.update.automaticRollback',
      message: 'rollback is mandated, but automatic rollback is disabled in the configuration',
    });
  else if (update.healthRounds === 0)
    out.findings.push({
      severity: 'error',
      field: 'configuration.update.healthRounds',
      message: 'rollback is mandated, but no health check runs after the trial boot (healthRounds: 0)',
    });
}

function stagedRollout(input: PlanInput, out: OtaPlan): void {
  const stages = input.configuration.rollouts.stages;
  const sizes = stages.map((s) => (s.percent !== undefined ? `${s.percent} %` : `${s.count} devices`));
  const holds = stages
    .slice(0, -1)
    .map((s) => (s.manualApproval ? `${fmtDuration(s.holdS)} + approval` : fmtDuration(s.holdS)));
  out.decisions.push({
    topic: 'staged rollout',
    choice: `${sizes.join(' → ')}; holds ${holds.length > 0 ? holds.join(', ') : 'none (one stage)'}; gates: success ≥ ${input.configuration.rollouts.gates.minSuccessRate * 100} %, failure ≤ ${input.configuration.rollouts.gates.maxFailureRate * 100} %`,
    reason: `a release reaches ${sizes[0]} first and every later stage only after the gates pass${input.regulatory.safetyCriticalUpdates ? '; safety-critical updates need an operator to approve before the fleet-wide stages' : ''}`,
  });
  if (input.regulatory.safetyCriticalUpdates && !stages.slice(0, -1).some((s) => s.manualApproval))
    out.findings.push({
      severity: 'warning',
      field: 'configuration.rollouts.stages',
      message: 'updates are safety-critical but no stage needs manual approval before the next one',
    });
}

export function planOta(input: PlanInput, link: LinkProfile, bench: BenchmarkFigures): OtaPlan {
  const out: OtaPlan = {
    scheme: 'single',
    deltasMandatory: false,
    downloadFraction: 1,
    automaticRollback: false,
    decisions: [],
    findings: [],
  };
  partition(input, link, out);
  delivery(input, link, bench, out);
  const signatures = input.configuration.update.signatures;
  out.decisions.push({
    topic: 'verification',
    choice:
      signatures === 'none'
        ? 'none'
        : `TUF metadata (Ed25519, versions only increase, expiries) and the image's sha256${signatures === 'tuf+minisign' ? ', plus a minisign signature on the image' : ''}`,
    reason:
      'the agent installs only what the fleet\'s signing keys vouch for (docs/architecture.md, "OTA updates")',
  });
  if (signatures === 'none')
    out.findings.push({
      severity: 'error',
      field: 'configuration.update.signatures',
      message: 'updates would be installed without verifying a signature',
    });
  rollback(input, out);
  stagedRollout(input, out);
  return out;
}
