/**
 * Recursive-descent parser for the fleet query language (grammar in docs/fleet-query.md).
 * Precedence: `not` binds tighter than `and`, which binds tighter than `or`. Keywords are
 * case-insensitive. Pure: text in, syntax tree out, or a ValidationError pointing at the token.
 */
import { tokenize, type Token } from './lexer.ts';
import { queryError, type Span } from './source-error.ts';
import { queryLimits, type FieldName, type Literal, type SyntaxNode } from './syntax.ts';

const keywords = new Set(['and', 'or', 'not', 'in', 'exists', 'true', 'false']);

export function parseSyntax(text: string): SyntaxNode {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > queryLimits.maxBytes) {
    throw queryError(text, { offset: 0, length: 0 }, `query is ${bytes} bytes, longer than allowed`, [
      `at most ${queryLimits.maxBytes} bytes`,
    ]);
  }
  return new Parser(text, tokenize(text)).parseQuery();
}

function spanOver(first: Span, last: Span): Span {
  return { offset: first.offset, length: last.offset + last.length - first.offset };
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of query';
    case 'name':
      return JSON.stringify(token.path.join('.'));
    case 'string':
      return 'a string';
    case 'operator':
      return `"${token.operator}"`;
    case '(':
    case ')':
    case ',':
      return `"${token.kind}"`;
    case 'number':
    case 'duration':
    case 'version':
      return `a ${token.kind}`;
  }
}

class Parser {
  #at = 0;
  #depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parseQuery(): SyntaxNode {
    if (this.#peek().kind === 'end') throw this.#fail(this.#peek(), 'empty query', ['a condition']);
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end')
      throw this.#fail(next, `unexpected ${describe(next)}`, ['and', 'or', 'end of query']);
    return node;
  }

  #or(): SyntaxNode {
    let left = this.#and();
    while (this.#keyword('or')) {
      this.#next();
      const right = this.#and();
      left = { kind: 'or', left, right, span: spanOver(left.span, right.span) };
    }
    return left;
  }

  #and(): SyntaxNode {
    let left = this.#not();
    while (this.#keyword('and')) {
      this.#next();
      const right = this.#not();
      left = { kind: 'and', left, right, span: spanOver(left.span, right.span) };
    }
    return left;
  }

  #not(): SyntaxNode {
    if (!this.#keyword('not')) return this.#primary();
    const keyword = this.#next();
    const operand = this.#nested(keyword, () => this.#not());
    return { kind: 'not', operand, span: spanOver(keyword.span, operand.span) };
  }

  #primary(): SyntaxNode {
    const token = this.#peek();
    if (token.kind === '(') {
      this.#next();
      const inner = this.#nested(token, () => this.#or());
      const close = this.#expect(')', ['")"', 'and', 'or']);
      return { ...inner, span: spanOver(token.span, close.span) };
    }
    if (this.#keyword('exists')) {
      const keyword = this.#next();
      this.#expect('(', ['"("']);
      const field = this.#field();
      const close = this.#expect(')', ['")"']);
      return { kind: 'exists', field, span: spanOver(keyword.span, close.span) };
    }
    return this.#condition(this.#field());
  }

  /** What follows a field: a comparison, `[not] in (…)`, `[not] exists`, or nothing (a flag). */
  #condition(field: FieldName): SyntaxNode {
    const token = this.#peek();
    if (token.kind === 'operator') {
      this.#next();
      const value = this.#literal();
      const span = spanOver(field.span, value.span);
      return { kind: 'compare', field, operator: token.operator, operatorSpan: token.span, value, span };
    }
    const negation = this.#keyword('not') ? this.#next() : undefined;
    if (this.#keyword('in')) {
      this.#next();
      return this.#inList(field, negation !== undefined);
    }
    if (this.#keyword('exists')) {
      const keyword = this.#next();
      const exists: SyntaxNode = { kind: 'exists', field, span: spanOver(field.span, keyword.span) };
      return negation === undefined ? exists : { kind: 'not', operand: exists, span: exists.span };
    }
    if (negation !== undefined)
      throw this.#fail(this.#peek(), `unexpected ${describe(this.#peek())}`, ['in', 'exists']);
    return { kind: 'flag', field, span: field.span };
  }

  #inList(field: FieldName, negated: boolean): SyntaxNode {
    const open = this.#expect('(', ['"("']);
    if (this.#peek().kind === ')') {
      throw this.#fail(this.#peek(), 'empty "in" list', ['at least one value']);
    }
    const values = [this.#literal()];
    while (this.#peek().kind === ',') {
      this.#next();
      const value = this.#literal();
      if (values.length >= queryLimits.maxInValues) {
        throw queryError(this.text, value.span, 'too many values in "in" list', [
          `at most ${queryLimits.maxInValues} values`,
        ]);
      }
      values.push(value);
    }
    const close = this.#expect(')', ['","', '")"']);
    const listSpan = spanOver(open.span, close.span);
    return { kind: 'in', field, negated, values, listSpan, span: spanOver(field.span, close.span) };
  }

  #field(): FieldName {
    const token = this.#peek();
    if (
      token.kind !== 'name' ||
      (token.path.length === 1 && keywords.has(token.path[0]?.toLowerCase() ?? ''))
    ) {
      throw this.#fail(token, `expected a field, found ${describe(token)}`, ['a field name']);
    }
    this.#next();
    return { path: token.path, span: token.span };
  }

  #literal(): Literal {
    const token = this.#next();
    switch (token.kind) {
      case 'string':
      case 'number':
      case 'duration':
      case 'version':
        return token;
      case 'name': {
        const word = token.path.length === 1 ? token.path[0]?.toLowerCase() : undefined;
        if (word === 'true' || word === 'false')
          return { kind: 'boolean', value: word === 'true', span: token.span };
        const hint =
          token.path.length === 1 ? ` (strings need double quotes: "${token.path.join('.')}")` : '';
        throw this.#fail(token, `expected a value, found ${describe(token)}${hint}`, valueKinds);
      }
      case 'operator':
      case '(':
      case ')':
      case ',':
      case 'end':
        throw this.#fail(token, `expected a value, found ${describe(token)}`, valueKinds);
    }
  }

  #nested<T>(opener: Token, parse: () => T): T {
    this.#depth += 1;
    if (this.#depth > queryLimits.maxDepth) {
      throw this.#fail(opener, 'query nested too deeply', [`at most ${queryLimits.maxDepth} levels`]);
    }
    const result = parse();
    this.#depth -= 1;
    return result;
  }

  #keyword(word: string): boolean {
    const token = this.#peek();
    return token.kind === 'name' && token.path.length === 1 && token.path[0]?.toLowerCase() === word;
  }

  #expect(kind: '(' | ')', expected: string[]): Token {
    const token = this.#peek();
    if (token.kind !== kind)
      throw this.#fail(token, `expected "${kind}", found ${describe(token)}`, expected);
    return this.#next();
  }

  #peek(): Token {
    // The token list always ends with 'end', and #next never moves past it.
    return this.tokens[this.#at] ?? { kind: 'end', span: { offset: this.text.length, length: 0 } };
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'end') this.#at += 1;
    return token;
  }

  #fail(token: Token, what: string, expected: readonly string[]) {
    return queryError(this.text, token.span, what, expected, { found: describe(token) });
  }
}

const valueKinds = ['a string', 'a number', 'a duration', 'a version', 'true', 'false'];
