/** Access-control services on a throw-away SQLite store with a fake clock. */
import { createAccessControl, type AccessControl } from '../../src/access/index.ts';
import type { AccessLimits } from '../../src/access/access-deps.ts';
import { openStores, type Stores } from '../../src/store/open-store.ts';
import { fakeTime, type FakeTime } from '../helpers/fake-time.ts';

export const testLimits: AccessLimits = { sessionIdleS: 600, sessionMaxS: 3600, tokenMaxLifetimeS: 86_400 };

export interface AccessFixture {
  stores: Stores;
  time: FakeTime;
  access: AccessControl;
  /** The audit actions recorded, oldest first, as `action target actor`. */
  audit(): Promise<string[]>;
}

export async function accessFixture(file: string): Promise<AccessFixture> {
  const stores = await openStores({ kind: 'sqlite', file });
  const time = fakeTime(1_700_000_000_000);
  const access = createAccessControl({
    store: stores.access,
    audit: stores.provisioning,
    clock: time.clock,
    limits: testLimits,
    checkScope: () => Promise.resolve(),
  });
  return {
    stores,
    time,
    access,
    audit: async () =>
      (await stores.provisioning.listAudit({ order: 'oldest', limit: 1000 })).map(
        (entry) => `${entry.action} ${entry.target} ${entry.actor}`,
      ),
  };
}
