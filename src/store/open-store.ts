/** Opens the configured registry store: connects, migrates, and returns it ready to use. */
import { openPostgresDeviceStore } from './postgres/postgres-device-store.ts';
import { openSqliteDeviceStore } from './sqlite/sqlite-device-store.ts';
import type { DeviceStore } from './types.ts';

export type DeviceStoreOptions =
  { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string };

/** UnavailableError when the database cannot be opened or was migrated by a newer Flotilla. */
export async function openDeviceStore(options: DeviceStoreOptions): Promise<DeviceStore> {
  switch (options.kind) {
    case 'sqlite':
      return openSqliteDeviceStore(options.file);
    case 'postgres':
      return openPostgresDeviceStore({ url: options.url, schema: options.schema });
  }
}
