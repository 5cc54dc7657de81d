/**
 * Saved fleet queries ("dynamic groups"). Implemented in sqlite/ and postgres/ and checked by one
 * contract suite (test/fleet-query/group-store.contract.ts). The store keeps text only; checking a
 * query is the group service's job (groups/group-service.ts).
 */
import type { DeviceGroup, NewGroup } from '../contracts/device-group.ts';

export interface GroupStore {
  /** ConflictError when a group of that name exists. */
  createGroup(group: NewGroup, nowMs: number): Promise<DeviceGroup>;
  /** Undefined when unknown. */
  getGroup(name: string): Promise<DeviceGroup | undefined>;
  /** Every group, by name. */
  listGroups(): Promise<DeviceGroup[]>;
  /** False when there was no such group. */
  deleteGroup(name: string): Promise<boolean>;
}
