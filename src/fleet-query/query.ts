/**
 * A checked fleet query: fields resolved, literals converted to their field's type, `!=` and
 * `not in` rewritten as `not (…)`. Plain data, so a store can compile it for its own dialect.
 */
import type { Field } from './fields.ts';

export type QueryValue =
  | { type: 'text'; value: string }
  | { type: 'number'; value: number }
  | { type: 'duration'; ms: number }
  /** `key` sorts like the version (semver.ts); `text` is what was written. */
  | { type: 'version'; key: string; text: string }
  /** ms since the epoch */
  | { type: 'time'; ms: number };

export type OrderOperator = '=' | '<' | '<=' | '>' | '>=';

export type QueryNode =
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'not'; operand: QueryNode }
  | { kind: 'compare'; field: Field; operator: OrderOperator; value: QueryValue }
  | { kind: 'in'; field: Field; values: QueryValue[] }
  | { kind: 'exists'; field: Field }
  /** A boolean field is true. */
  | { kind: 'flag'; field: Field };

/** A checked query and the text it came from. */
export interface FleetQuery {
  text: string;
  root: QueryNode;
}
