/**
 * The ProvisioningStore contract, written once and run against every implementation (sqlite,
 * postgres). `makeStores` must return fresh, empty, migrated stores sharing one database; the
 * suite closes them after each test. The parts live in provisioning-*.contract.ts.
 */
import { afterEach, beforeEach, describe } from 'node:test';
import type { Stores } from '../../src/store/open-store.ts';
import { batchContract } from './provisioning-batches.contract.ts';
import { completeProvisioningContract } from './provisioning-complete.contract.ts';
import { credentialContract } from './provisioning-credentials.contract.ts';
import { ownerAndAuditContract } from './provisioning-owners.contract.ts';

export type StoresFactory = () => Promise<Stores>;

/** Registers the contract as its own suite, so its hooks do not touch the caller's other tests. */
export function provisioningStoreContract(makeStores: StoresFactory): void {
  describe('ProvisioningStore contract', () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await makeStores();
    });
    afterEach(async () => {
      await stores.close();
    });
    const current = () => stores;

    batchContract(current);
    completeProvisioningContract(current);
    credentialContract(current);
    ownerAndAuditContract(current);
  });
}
