/** Markdown building blocks for the plan document. Pure. */

/** Escapes the characters that would break a table cell. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A GitHub-flavoured table; `align` per column: `l` (default) or `r`. */
export function table(headers: string[], rows: string[][], align: Array<'l' | 'r'> = []): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

export const heading = (level: number, text: string): string => `${'#'.repeat(level)} ${text}`;
