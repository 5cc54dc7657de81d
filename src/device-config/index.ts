/**
 * Device configuration, assembled: the publisher (keeps each device's `config/desired` current
 * and takes its reports), the operator service, and the gateway handler for both transports.
 */
import type { Logger } from 'pino';
import type { ConfigDesired } from '../contracts/config-messages.ts';
import type { FleetQuery } from '../fleet-query/index.ts';
import type { ConfigHandler } from '../gateway/types.ts';
import type { Clock } from '../infra/clock.ts';
import type { DeviceConfigStore } from '../store/device-config-types.ts';
import type { ProvisioningStore } from '../store/provisioning-types.ts';
import type { DeviceStore } from '../store/types.ts';
import { createConfigPublisher } from './config-publisher.ts';
import { createConfigService } from './config-service.ts';
import { createDeviceSelection } from './device-selection.ts';

export interface DeviceConfigDeps {
  store: DeviceConfigStore;
  devices: Pick<DeviceStore, 'listDevices' | 'countDevices'>;
  groups: {
    parse(text: string): Promise<FleetQuery>;
    find(name: string): Promise<{ name: string } | undefined>;
  };
  audit: Pick<ProvisioningStore, 'appendAudit'>;
  clock: Clock;
  logger: Logger;
  publish(deviceId: string, desired: ConfigDesired): Promise<void>;
}

export function createDeviceConfig(deps: DeviceConfigDeps) {
  const selection = createDeviceSelection(deps);
  const publisher = createConfigPublisher({ ...deps, selection });
  const service = createConfigService({ ...deps, publisher, selection });
  const handler: ConfigHandler = {
    reported: (device, report) => publisher.reported(device.deviceId, report),
    desired: (device) => publisher.desired(device.deviceId),
  };
  return { publisher, service, handler };
}
