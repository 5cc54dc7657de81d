/**
 * Dynamic groups: saved fleet queries, checked when saved and resolved when used. A group that
 * another group refers to cannot be deleted, so saved groups keep working.
 */
import type { DeviceGroup, NewGroup } from '../contracts/device-group.ts';
import { groupReferences, parseFleetQueryWithGroups } from '../fleet-query/groups.ts';
import type { FleetQuery } from '../fleet-query/index.ts';
import { parseSyntax } from '../fleet-query/parser.ts';
import type { Clock } from '../infra/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../infra/errors.ts';
import type { GroupStore } from '../store/group-types.ts';

export interface GroupServiceDeps {
  groups: GroupStore;
  clock: Clock;
}

export class GroupService {
  readonly #store: GroupStore;
  readonly #clock: Clock;

  constructor(deps: GroupServiceDeps) {
    this.#store = deps.groups;
    this.#clock = deps.clock;
  }

  /** ValidationError (with the position) when the query does not parse or names unknown groups. */
  async create(group: NewGroup): Promise<DeviceGroup> {
    await this.parse(group.query);
    return this.#store.createGroup(group, this.#clock.now());
  }

  list(): Promise<DeviceGroup[]> {
    return this.#store.listGroups();
  }

  async get(name: string): Promise<DeviceGroup> {
    const group = await this.#store.getGroup(name);
    if (group === undefined) throw new NotFoundError(`group ${name} not found`, { name });
    return group;
  }

  /** Undefined when unknown. */
  find(name: string): Promise<DeviceGroup | undefined> {
    return this.#store.getGroup(name);
  }

  /** ConflictError when other groups refer to it. */
  async delete(name: string): Promise<void> {
    const dependents = (await this.#store.listGroups())
      .filter((other) => groupReferences(parseSyntax(other.query)).some((ref) => ref.name === name))
      .map((other) => other.name);
    if (dependents.length > 0) {
      throw new ConflictError(`group ${name} is used by ${dependents.join(', ')}`, {
        name,
        usedBy: dependents,
      });
    }
    if (!(await this.#store.deleteGroup(name))) throw new NotFoundError(`group ${name} not found`, { name });
  }

  /** A query text with `group = "…"` resolved. */
  parse(text: string): Promise<FleetQuery> {
    return parseFleetQueryWithGroups(text, {
      query: async (name) => (await this.#store.getGroup(name))?.query,
      names: async () => (await this.#store.listGroups()).map((group) => group.name),
    });
  }

  /**
   * The device query of a request: `where` and/or the saved query of `group`, both required to
   * match; undefined when neither is given.
   */
  async deviceQuery(where: string | undefined, group: string | undefined): Promise<FleetQuery | undefined> {
    const queries: FleetQuery[] = [];
    if (where !== undefined) queries.push(await this.parse(where));
    if (group !== undefined) {
      const saved = await this.#store.getGroup(group);
      if (saved === undefined) throw new ValidationError(`unknown group ${group}`, { group });
      queries.push(await this.parse(saved.query));
    }
    const [first, second] = queries;
    if (first === undefined || second === undefined) return first;
    return {
      text: `(${first.text}) and (${second.text})`,
      root: { kind: 'and', left: first.root, right: second.root },
    };
  }
}
