/**
 * Splits a fleet query into tokens. Words may be dotted paths (`tag.ring`, `tag."odd key"`);
 * anything starting with a digit or a minus sign is read as one literal and classified as a
 * number, a duration or a version, so `2.4.0-rc.1` and `24h` are single tokens.
 */
import { queryError, type Span } from './source-error.ts';
import { parseVersion, type SemVer } from './semver.ts';

export type CompareOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Token =
  | { kind: 'name'; path: string[]; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'duration'; ms: number; text: string; span: Span }
  | { kind: 'version'; version: SemVer; text: string; span: Span }
  | { kind: 'operator'; operator: CompareOperator; span: Span }
  | { kind: '(' | ')' | ',' | 'end'; span: Span };

const wordStart = /[A-Za-z_]/;
const wordChar = /[A-Za-z0-9_]/;
const segmentChar = /[A-Za-z0-9_-]/;
const literalChar = /[A-Za-z0-9_.+-]/;
const numberPattern = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const durationPattern = /^([0-9]+(ms|s|m|h|d|w))+$/;
const durationPart = /([0-9]+)(ms|s|m|h|d|w)/g;
const unitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
/** Keeps `now - duration` inside every dialect's time range. */
const maxDurationMs = 1000 * 365 * 86_400_000;
// JSON's escapes, so JSON.stringify(value) always writes a valid query string.
const escapes: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text.charAt(at);
    if (/\s/.test(char)) {
      at += 1;
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ kind: char, span: { offset: at, length: 1 } });
      at += 1;
    } else if ('=!<>'.includes(char)) {
      const token = readOperator(text, at);
      tokens.push(token);
      at += token.span.length;
    } else if (char === '"') {
      const token = readString(text, at);
      tokens.push(token);
      at += token.span.length;
    } else if (wordStart.test(char)) {
      const token = readName(text, at);
      tokens.push(token);
      at += token.span.length;
    } else if (/[0-9-]/.test(char)) {
      const token = readLiteral(text, at);
      tokens.push(token);
      at += token.span.length;
    } else {
      const expected =
        char === "'" ? ['a string in double quotes'] : ['a field, value, operator or parenthesis'];
      throw queryError(
        text,
        { offset: at, length: 1 },
        `unexpected character ${JSON.stringify(char)}`,
        expected,
      );
    }
  }
  tokens.push({ kind: 'end', span: { offset: text.length, length: 0 } });
  return tokens;
}

function readOperator(text: string, at: number): Token {
  const two = text.slice(at, at + 2);
  if (two === '!=' || two === '<=' || two === '>=') {
    return { kind: 'operator', operator: two, span: { offset: at, length: 2 } };
  }
  const one = text.charAt(at);
  if (one === '=' || one === '<' || one === '>') {
    return { kind: 'operator', operator: one, span: { offset: at, length: 1 } };
  }
  throw queryError(text, { offset: at, length: 1 }, 'unexpected "!"', ['!=', 'not']);
}

/** A double-quoted string with JSON-style escapes; the token's value is unescaped. */
function readString(text: string, start: number): Token & { kind: 'string' } {
  let value = '';
  let at = start + 1;
  while (at < text.length) {
    const char = text.charAt(at);
    if (char === '"') return { kind: 'string', value, span: { offset: start, length: at + 1 - start } };
    if (char === '\0') throw nulInString(text, at, 1);
    if (char !== '\\') {
      value += char;
      at += 1;
      continue;
    }
    const escape = text.charAt(at + 1);
    const simple = escapes[escape];
    if (simple !== undefined) {
      value += simple;
      at += 2;
    } else if (escape === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(at + 2, at + 6))) {
      const code = Number.parseInt(text.slice(at + 2, at + 6), 16);
      if (code === 0) throw nulInString(text, at, 6);
      value += String.fromCharCode(code);
      at += 6;
    } else {
      const expected = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\uXXXX'];
      throw queryError(text, { offset: at, length: 2 }, 'unknown escape in string', expected);
    }
  }
  throw queryError(text, { offset: start, length: text.length - start }, 'unterminated string', ['"']);
}

// PostgreSQL text cannot hold NUL, and no device field does.
function nulInString(text: string, at: number, length: number) {
  return queryError(text, { offset: at, length }, 'strings cannot contain NUL', ['any other character']);
}

/** `word` or a dotted path of segments, each plain (`site-a`) or quoted (`"odd key"`). */
function readName(text: string, start: number): Token {
  let at = start;
  while (at < text.length && wordChar.test(text.charAt(at))) at += 1;
  const path = [text.slice(start, at)];
  while (text.charAt(at) === '.') {
    const next = text.charAt(at + 1);
    if (next === '"') {
      const quoted = readString(text, at + 1);
      path.push(quoted.value);
      at += 1 + quoted.span.length;
    } else if (segmentChar.test(next)) {
      let end = at + 1;
      while (end < text.length && segmentChar.test(text.charAt(end))) end += 1;
      path.push(text.slice(at + 1, end));
      at = end;
    } else {
      throw queryError(text, { offset: at + 1, length: 1 }, 'expected a name after "."', ['a key']);
    }
  }
  return { kind: 'name', path, span: { offset: start, length: at - start } };
}

function readLiteral(text: string, start: number): Token {
  let at = start + 1;
  while (at < text.length && literalChar.test(text.charAt(at))) at += 1;
  const literal = text.slice(start, at);
  const span = { offset: start, length: at - start };
  if (numberPattern.test(literal) && Number.isFinite(Number(literal))) {
    return { kind: 'number', value: Number(literal), span };
  }
  if (durationPattern.test(literal)) {
    const ms = durationMs(literal);
    if (ms > maxDurationMs)
      throw queryError(text, span, 'duration too long', ['at most 1000 years (52143w)']);
    return { kind: 'duration', ms, text: literal, span };
  }
  const version = parseVersion(literal);
  if (version !== undefined) return { kind: 'version', version, text: literal, span };
  throw queryError(text, span, `malformed literal ${JSON.stringify(literal)}`, [
    'a number (20, -90, 1.5)',
    'a duration (30s, 15m, 24h, 7d)',
    'a semantic version (2.4.0, 2.4.0-rc.1)',
  ]);
}

function durationMs(literal: string): number {
  let total = 0;
  for (const [, amount, unit] of literal.matchAll(durationPart)) {
    total += Number(amount) * (unitMs[unit ?? ''] ?? 0);
  }
  return total;
}
