/**
 * The syntax tree the parser builds: what was written, with where it was written. Names are not
 * resolved yet; the checker (check.ts) turns this into a typed query.
 */
import type { CompareOperator } from './lexer.ts';
import type { Span } from './source-error.ts';
import type { SemVer } from './semver.ts';

export type Literal =
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'duration'; ms: number; text: string; span: Span }
  | { kind: 'version'; version: SemVer; text: string; span: Span }
  | { kind: 'boolean'; value: boolean; span: Span };

/** A field as written: `model`, `tag.ring`, `telemetry.battery`. */
export interface FieldName {
  path: string[];
  span: Span;
}

export type SyntaxNode =
  | { kind: 'and' | 'or'; left: SyntaxNode; right: SyntaxNode; span: Span }
  | { kind: 'not'; operand: SyntaxNode; span: Span }
  | {
      kind: 'compare';
      field: FieldName;
      operator: CompareOperator;
      operatorSpan: Span;
      value: Literal;
      span: Span;
    }
  | { kind: 'in'; field: FieldName; negated: boolean; values: Literal[]; listSpan: Span; span: Span }
  | { kind: 'exists'; field: FieldName; span: Span }
  /** A field standing alone, e.g. `online`: only boolean fields may. */
  | { kind: 'flag'; field: FieldName; span: Span };

/** Limits that keep one query cheap to parse and to run. */
export const queryLimits = {
  /** UTF-8 bytes of the query text. */
  maxBytes: 4096,
  /** Nested parentheses and `not`s. */
  maxDepth: 32,
  /** Values in one `in (…)` list. */
  maxInValues: 256,
} as const;
