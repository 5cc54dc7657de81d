/**
 * Saved queries ("dynamic groups") inside queries: `group = "beta-fleet"` stands for the group's
 * own query. Resolution reads each referenced group once through an injected lookup, checks it
 * (recursively, refusing cycles and deep chains) and then checks the outer query with them.
 */
import { checkSyntax, isGroupField, type ResolvedGroups } from './check.ts';
import { parseSyntax } from './parser.ts';
import type { FleetQuery, QueryNode } from './query.ts';
import { queryError, type Span } from './source-error.ts';
import type { SyntaxNode } from './syntax.ts';
import { FlotillaError } from '../infra/errors.ts';

export interface GroupLookup {
  /** The saved query text of a group, or undefined when there is no such group. */
  query(name: string): Promise<string | undefined>;
  /** Every group name, for suggestions when a name is unknown. */
  names(): Promise<string[]>;
}

/** How many groups deep one query may refer (a group naming a group naming a group …). */
export const maxGroupDepth = 8;

/** Like parseFleetQuery, with `group = "name"` resolved through `lookup`. */
export async function parseFleetQueryWithGroups(text: string, lookup: GroupLookup): Promise<FleetQuery> {
  return { text, root: await resolve(text, parseSyntax(text), lookup, []) };
}

/** The group names a query refers to, each with where it is written. */
export function groupReferences(node: SyntaxNode): Array<{ name: string; span: Span }> {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...groupReferences(node.left), ...groupReferences(node.right)];
    case 'not':
      return groupReferences(node.operand);
    case 'compare':
    case 'in': {
      if (!isGroupField(node.field)) return [];
      const values = node.kind === 'compare' ? [node.value] : node.values;
      return values.flatMap((value) =>
        value.kind === 'string' ? [{ name: value.value, span: value.span }] : [],
      );
    }
    case 'exists':
    case 'flag':
      return [];
  }
}

async function resolve(
  text: string,
  syntax: SyntaxNode,
  lookup: GroupLookup,
  chain: string[],
): Promise<QueryNode> {
  const groups = new Map<string, QueryNode>();
  let unknown = false;
  for (const { name, span } of groupReferences(syntax)) {
    if (groups.has(name)) continue;
    const root = await resolveGroup(name, span, text, lookup, chain);
    if (root === undefined) unknown = true;
    else groups.set(name, root);
  }
  // A name the lookup does not know is left out, so the checker reports it with a suggestion.
  const names = unknown ? await lookup.names() : [...groups.keys()];
  return checkSyntax(text, syntax, groups satisfies ResolvedGroups, names);
}

async function resolveGroup(
  name: string,
  span: Span,
  text: string,
  lookup: GroupLookup,
  chain: string[],
): Promise<QueryNode | undefined> {
  if (chain.includes(name)) {
    throw queryError(
      text,
      span,
      `group ${JSON.stringify(name)} refers to itself (${[...chain, name].join(' → ')})`,
      ['a group that does not contain itself'],
    );
  }
  if (chain.length >= maxGroupDepth) {
    throw queryError(text, span, 'groups nested too deeply', [`at most ${maxGroupDepth} levels of groups`]);
  }
  const saved = await lookup.query(name);
  if (saved === undefined) return undefined;
  try {
    return await resolve(saved, parseSyntax(saved), lookup, [...chain, name]);
  } catch (error) {
    if (!(error instanceof FlotillaError)) throw error;
    const reason = error.message.split('\n')[0] ?? error.message;
    throw queryError(
      text,
      span,
      `group ${JSON.stringify(name)} no longer works (${reason})`,
      ['a working group'],
      {
        group: name,
      },
    );
  }
}
