/**
 * The fleet query language: `model = "tracker-2" and firmware < 2.4.0 and offline_for > 24h`.
 * Pure; docs/fleet-query.md has the grammar, fields and limits. Stores compile the result with
 * sql/compile.ts for their dialect.
 */
import { checkSyntax } from './check.ts';
import { parseSyntax } from './parser.ts';
import type { FleetQuery } from './query.ts';

export type { FleetQuery, QueryNode, QueryValue } from './query.ts';
export { queryLimits } from './syntax.ts';

/** Parses and type-checks a query; ValidationError with `{ position, length, expected }` details otherwise. */
export function parseFleetQuery(text: string): FleetQuery {
  return { text, root: checkSyntax(text, parseSyntax(text)) };
}
