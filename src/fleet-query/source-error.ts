/**
 * Errors that point into the query text: a ValidationError whose message ends with the offending
 * line and a caret under the span, and whose details carry the position for programs.
 */
import { ValidationError } from '../infra/errors.ts';

/** Where a span starts: `offset` counts UTF-16 code units from 0; `line` and `column` count from 1. */
export interface SourcePosition {
  offset: number;
  line: number;
  column: number;
}

/** A half-open range of the query text. */
export interface Span {
  offset: number;
  length: number;
}

export function positionOf(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return { offset, line, column: offset - lineStart + 1 };
}

/** The line holding the span, with carets under it (at least one, also at the end of the text). */
export function caretExcerpt(text: string, span: Span): string {
  const lineStart = text.lastIndexOf('\n', span.offset - 1) + 1;
  const lineEndIndex = text.indexOf('\n', span.offset);
  const lineEnd = lineEndIndex === -1 ? text.length : lineEndIndex;
  const lineText = text.slice(lineStart, lineEnd);
  const column = span.offset - lineStart;
  const width = Math.max(1, Math.min(span.length, lineEnd - span.offset));
  return `  ${lineText}\n  ${' '.repeat(column)}${'^'.repeat(width)}`;
}

/**
 * A ValidationError for the span: message "… at line L, column C: <what>" plus the caret excerpt;
 * details `{ position, length, expected, ...extra }`.
 */
export function queryError(
  text: string,
  span: Span,
  what: string,
  expected: readonly string[],
  extra: Record<string, unknown> = {},
): ValidationError {
  const position = positionOf(text, span.offset);
  const message = `invalid fleet query at line ${position.line}, column ${position.column}: ${what}\n${caretExcerpt(text, span)}`;
  return new ValidationError(message, { position, length: span.length, expected: [...expected], ...extra });
}
