/**
 * Type checking: resolves field names against the registry and checks each comparison's
 * operator and value against the field's type. Errors point at the offending name, operator or
 * value. Normalises `!=` to `not =` and `not in` to `not (in)`, so a missing field matches both.
 */
import { knownFieldNames, resolveField, type Field, type FieldType } from './fields.ts';
import type { CompareOperator } from './lexer.ts';
import type { OrderOperator, QueryNode, QueryValue } from './query.ts';
import { versionKey } from './semver.ts';
import { queryError, type Span } from './source-error.ts';
import { closest } from './suggest.ts';
import type { FieldName, Literal, SyntaxNode } from './syntax.ts';

const equality = ['=', '!=', 'in', 'not in', 'exists'];
const ordering = ['=', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'exists'];

/** What each field type accepts, for messages and `expected`. */
const accepts: Record<FieldType, { what: string; expected: string[]; operators: string[] }> = {
  text: { what: 'text', expected: ['a string in double quotes'], operators: equality },
  // The values themselves are offered when a field of this type is mismatched (see value()).
  enum: { what: 'one of a fixed set of values', expected: ['a string'], operators: equality },
  version: {
    what: 'a version',
    expected: ['a version like 2.4.0 (compared by semver)', 'a string (exact text, = and in only)'],
    operators: ordering,
  },
  number: { what: 'a number', expected: ['a number'], operators: ordering },
  duration: { what: 'a duration', expected: ['a duration like 30s, 15m, 24h, 7d'], operators: ordering },
  time: {
    what: 'a time',
    expected: ['a UTC date or date-time string like "2026-01-31" or "2026-01-31T08:00:00Z"'],
    operators: ordering,
  },
  boolean: { what: 'true or false', expected: ['true', 'false'], operators: ['=', '!='] },
  tag: { what: 'a tag (text)', expected: ['a string in double quotes'], operators: equality },
};

const isoTime = /^(?!0000)\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Saved queries by group name, already checked, for `group = "name"`. */
export type ResolvedGroups = ReadonlyMap<string, QueryNode>;

/** `groupNames` are offered as suggestions for an unknown group. */
export function checkSyntax(
  text: string,
  node: SyntaxNode,
  groups: ResolvedGroups = new Map(),
  groupNames: readonly string[] = [...groups.keys()],
): QueryNode {
  return new Checker(text, groups, groupNames).node(node);
}

/** True for the pseudo-field `group`, which stands for a saved query. */
export function isGroupField(name: FieldName): boolean {
  return name.path.length === 1 && name.path[0]?.toLowerCase() === 'group';
}

class Checker {
  constructor(
    private readonly text: string,
    private readonly groups: ResolvedGroups,
    private readonly groupNames: readonly string[],
  ) {}

  node(node: SyntaxNode): QueryNode {
    switch (node.kind) {
      case 'and':
      case 'or':
        return { kind: node.kind, left: this.node(node.left), right: this.node(node.right) };
      case 'not':
        return { kind: 'not', operand: this.node(node.operand) };
      case 'exists':
        return { kind: 'exists', field: this.field(node.field) };
      case 'flag':
        return this.flag(node.field);
      case 'compare':
        if (isGroupField(node.field)) return this.groupCompare(node.operator, node.operatorSpan, node.value);
        return this.compare(node.field, node.operator, node.operatorSpan, node.value);
      case 'in': {
        if (isGroupField(node.field)) return this.groupIn(node.negated, node.values);
        const field = this.field(node.field);
        this.checkOperator(field, node.negated ? 'not in' : 'in', node.listSpan);
        const inList: QueryNode = {
          kind: 'in',
          field,
          values: node.values.map((v) => this.value(field, '=', v)),
        };
        return node.negated ? { kind: 'not', operand: inList } : inList;
      }
    }
  }

  /** `group = "name"` is the saved query itself; `!=` its negation. */
  groupCompare(operator: CompareOperator, operatorSpan: Span, literal: Literal): QueryNode {
    if (operator !== '=' && operator !== '!=') {
      throw this.fail(operatorSpan, `"${operator}" does not apply to group`, ['=', '!=', 'in', 'not in']);
    }
    const root = this.group(literal);
    return operator === '=' ? root : { kind: 'not', operand: root };
  }

  groupIn(negated: boolean, values: readonly Literal[]): QueryNode {
    const roots = values.map((value) => this.group(value));
    const any = roots.reduce((left, right) => ({ kind: 'or', left, right }));
    return negated ? { kind: 'not', operand: any } : any;
  }

  group(literal: Literal): QueryNode {
    if (literal.kind !== 'string') {
      throw this.fail(literal.span, 'group names are strings', ['a group name in double quotes']);
    }
    const root = this.groups.get(literal.value);
    if (root !== undefined) return root;
    const guess = closest(literal.value, this.groupNames);
    const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
    throw this.fail(literal.span, `unknown group ${JSON.stringify(literal.value)}${hint}`, ['a saved group']);
  }

  field(name: FieldName): Field {
    const field = resolveField(name.path);
    if (field !== undefined) return field;
    if (isGroupField(name)) {
      throw this.fail(name.span, 'group is compared with a group name, e.g. group = "beta-fleet"', [
        '=',
        '!=',
        'in',
        'not in',
      ]);
    }
    const written = name.path.join('.');
    const [head = '', ...rest] = name.path;
    if (rest.length === 0 && (head.toLowerCase() === 'tag' || head.toLowerCase() === 'telemetry')) {
      throw this.fail(name.span, `"${head}" needs a key, e.g. ${head.toLowerCase()}.site`, [`${head}.<key>`]);
    }
    const known = knownFieldNames();
    const guess = closest(head, [...known.filter((n) => !n.includes('<')), 'tag', 'telemetry', 'group']);
    const suggestion = guess === undefined ? undefined : [guess, ...rest].join('.');
    const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
    const expected = [...known, 'group'];
    throw this.fail(
      name.span,
      `unknown field "${written}"${hint}`,
      expected,
      suggestion ? { suggestion } : {},
    );
  }

  flag(name: FieldName): QueryNode {
    const field = this.field(name);
    if (field.type === 'boolean') return { kind: 'flag', field };
    throw this.fail(
      name.span,
      `${field.name} is ${accepts[field.type].what}; a condition needs an operator`,
      [...accepts[field.type].operators],
    );
  }

  compare(name: FieldName, operator: CompareOperator, operatorSpan: Span, literal: Literal): QueryNode {
    const field = this.field(name);
    this.checkOperator(field, operator, operatorSpan);
    if (field.type === 'boolean') {
      const value = this.boolean(field, literal);
      const isTrue = operator === '=' ? value : !value;
      return isTrue ? { kind: 'flag', field } : { kind: 'not', operand: { kind: 'flag', field } };
    }
    const order: OrderOperator = operator === '!=' ? '=' : operator;
    const value = this.value(field, order, literal);
    const node: QueryNode = { kind: 'compare', field, operator: order, value };
    return operator === '!=' ? { kind: 'not', operand: node } : node;
  }

  checkOperator(field: Field, operator: string, span: Span): void {
    const allowed = accepts[field.type].operators;
    if (!allowed.includes(operator)) {
      throw this.fail(
        span,
        `"${operator}" does not apply to ${field.name}, which is ${accepts[field.type].what}`,
        allowed,
      );
    }
  }

  boolean(field: Field, literal: Literal): boolean {
    if (literal.kind === 'boolean') return literal.value;
    throw this.mismatch(field, literal, accepts.boolean.expected);
  }

  /** The literal as a value of the field's type; `operator` is `=` for equality and `in`. */
  value(field: Field, operator: OrderOperator, literal: Literal): QueryValue {
    switch (field.type) {
      case 'text':
      case 'tag':
        if (literal.kind === 'string') return { type: 'text', value: literal.value };
        break;
      case 'enum':
        if (field.kind !== 'enum') break;
        if (literal.kind === 'string') return this.enumValue(field, literal);
        throw this.mismatch(
          field,
          literal,
          field.values.map((value) => JSON.stringify(value)),
        );
      case 'version':
        if (literal.kind === 'version') {
          return { type: 'version', key: versionKey(literal.version), text: literal.text };
        }
        if (literal.kind === 'string' && operator === '=') return { type: 'text', value: literal.value };
        break;
      case 'number':
        if (literal.kind === 'number') return { type: 'number', value: literal.value };
        break;
      case 'duration':
        if (literal.kind === 'duration') return { type: 'duration', ms: literal.ms };
        break;
      case 'time':
        if (literal.kind === 'string') return this.time(literal.value, literal.span);
        break;
      case 'boolean':
        break;
    }
    throw this.mismatch(field, literal, accepts[field.type].expected);
  }

  enumValue(field: Field & { kind: 'enum' }, literal: Literal & { kind: 'string' }): QueryValue {
    if (field.values.includes(literal.value)) return { type: 'text', value: literal.value };
    const guess = closest(literal.value, field.values);
    const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
    const expected = field.values.map((v) => JSON.stringify(v));
    throw this.fail(literal.span, `${field.name} is never ${JSON.stringify(literal.value)}${hint}`, expected);
  }

  time(value: string, span: Span): QueryValue {
    const ms = isoTime.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(ms)) return { type: 'time', ms };
    throw this.fail(span, `${JSON.stringify(value)} is not a UTC date or date-time`, accepts.time.expected);
  }

  mismatch(field: Field, literal: Literal, expected: readonly string[]) {
    const found = literal.kind === 'boolean' ? 'a boolean' : `a ${literal.kind}`;
    let hint = '';
    if (field.type === 'version' && literal.kind === 'number') hint = '; write a full version like 2.4.0';
    if (field.type === 'version' && literal.kind === 'string') hint = '; ordering needs an unquoted version';
    if ((field.type === 'tag' || field.type === 'text') && literal.kind !== 'string') hint = '; quote it';
    return this.fail(
      literal.span,
      `${field.name} is ${accepts[field.type].what}, not ${found}${hint}`,
      expected,
    );
  }

  fail(span: Span, what: string, expected: readonly string[], extra: Record<string, unknown> = {}) {
    return queryError(this.text, span, what, expected, extra);
  }
}
