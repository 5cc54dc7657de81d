/**
 * Pure rules of a deployment: which devices a release may go to, which already run it, the
 * TUF target a release is published as, and the offer a device receives.
 */
import type { Device } from '../../contracts/device.ts';
import type { UpdateNotify } from '../../contracts/update-messages.ts';
import type { Release } from '../../store/release-types.ts';
import type { Deployment } from '../../store/update-types.ts';

/**
 * The TUF target name of a release's full image: `<model>_<version>.img` (flat, so it is a
 * valid target name whenever the model and version are; see signing/tuf/target-custom.ts).
 */
export function releaseTargetName(hardwareModel: string, version: string): string {
  return `${hardwareModel}_${version}.img`;
}

export type SkipReason = 'already_installed' | 'incompatible_revision';
export type IncompatibleReason = 'other_model' | 'incompatible_revision';

export interface DevicePlan {
  offer: string[];
  skipped: Array<{ deviceId: string; reason: SkipReason }>;
  /** Devices named explicitly that cannot take the release (the deployment is refused). */
  incompatible: Array<{ deviceId: string; reason: IncompatibleReason }>;
}

function fits(release: Release, device: Device): IncompatibleReason | undefined {
  if (device.hardwareModel !== release.hardwareModel) return 'other_model';
  const { hardwareRevisions } = release;
  if (hardwareRevisions.length === 0) return undefined;
  return device.hardwareRevision !== null && hardwareRevisions.includes(device.hardwareRevision)
    ? undefined
    : 'incompatible_revision';
}

/**
 * Splits the candidate devices. `explicit`: the operator named them, so a device the release
 * does not fit refuses the deployment; otherwise (every device of the model) it is skipped.
 */
export function planDevices(release: Release, devices: Device[], explicit: boolean): DevicePlan {
  const plan: DevicePlan = { offer: [], skipped: [], incompatible: [] };
  for (const device of devices) {
    const misfit = fits(release, device);
    if (misfit !== undefined) {
      if (explicit || misfit === 'other_model')
        plan.incompatible.push({ deviceId: device.id, reason: misfit });
      else plan.skipped.push({ deviceId: device.id, reason: misfit });
    } else if (device.firmwareVersion === release.version) {
      plan.skipped.push({ deviceId: device.id, reason: 'already_installed' });
    } else {
      plan.offer.push(device.id);
    }
  }
  return plan;
}

/** The notify payload for a device assigned to `deployment` (or none). */
export function notifyFor(deployment: Deployment | undefined): UpdateNotify {
  if (deployment === undefined) return { offer: null };
  return {
    offer: {
      deploymentId: deployment.id,
      version: deployment.version,
      target: deployment.target,
      installNow: deployment.installNow,
      force: deployment.force,
      // Only when set: a strict older agent refuses an offer with a field it does not know.
      ...(deployment.installWindow !== null && { installWindow: deployment.installWindow }),
    },
  };
}
