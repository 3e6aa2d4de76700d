/**
 * Which rule "dlx-lint: Show Rule Documentation" explains: the dlx-lint diagnostic under the
 * cursor, else a code or rule name inside a `# noqa:` comment under the cursor, else the
 * only dlx-lint diagnostic on the cursor's line. No `vscode` import (unit-tested under Node).
 */

export interface Pos {
  line: number;
  character: number;
}

export interface DiagnosticLike {
  source?: string;
  code?: string | number | { value: string | number; target?: unknown };
  range: { start: Pos; end: Pos };
}

export const SOURCE = 'dlx-lint';

/** A rule code (`DLX001`) or name (`missing-zero-grad`) as written in a `# noqa:` list. */
const NOQA = /#\s*noqa\s*:\s*([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)/i;

export function codeOf(diagnostic: DiagnosticLike): string | undefined {
  const code = diagnostic.code;
  if (code === undefined) return undefined;
  if (typeof code === 'object') return String(code.value);
  return String(code);
}

function before(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character <= b.character);
}

function contains(range: { start: Pos; end: Pos }, position: Pos): boolean {
  return before(range.start, position) && before(position, range.end);
}

function size(range: { start: Pos; end: Pos }): number {
  return (range.end.line - range.start.line) * 1e6 + (range.end.character - range.start.character);
}

/** The code or name inside `# noqa: ...` on `lineText` that the cursor `character` is on; when the
 * cursor is elsewhere in the comment and it names exactly one rule, that rule. */
export function noqaCodeAt(lineText: string, character: number): string | undefined {
  const match = NOQA.exec(lineText);
  if (match === null) return undefined;
  const listStart = match.index + match[0].length - match[1].length;
  const items: { text: string; start: number; end: number }[] = [];
  const item = /[A-Za-z0-9_-]+/g;
  let found: RegExpExecArray | null;
  while ((found = item.exec(match[1])) !== null) {
    items.push({ text: found[0], start: listStart + found.index, end: listStart + found.index + found[0].length });
  }
  const hit = items.find((i) => i.start <= character && character <= i.end);
  if (hit) return hit.text;
  const inComment = character >= match.index && character <= match.index + match[0].length;
  return inComment && items.length === 1 ? items[0].text : undefined;
}

/** The rule to explain at `position` (see the module comment), or undefined. */
export function ruleAt(diagnostics: readonly DiagnosticLike[], position: Pos, lineText: string): string | undefined {
  const ours = diagnostics.filter((d) => d.source === SOURCE && codeOf(d) !== undefined);
  const under = ours.filter((d) => contains(d.range, position)).sort((a, b) => size(a.range) - size(b.range));
  if (under.length > 0) return codeOf(under[0]);
  const fromComment = noqaCodeAt(lineText, position.character);
  if (fromComment !== undefined) return fromComment;
  const onLine = ours.filter((d) => d.range.start.line <= position.line && position.line <= d.range.end.line);
  const codes = new Set(onLine.map(codeOf));
  return codes.size === 1 ? codeOf(onLine[0]) : undefined;
}
