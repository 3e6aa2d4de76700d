// Unit tests of "which rule is under the cursor" (dlx-lint: Show Rule Documentation).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DiagnosticLike, noqaCodeAt, ruleAt } from '../src/ruleAtCursor';

function diag(code: string, line: number, start: number, end: number, source = 'dlx-lint'): DiagnosticLike {
  return { source, code: { value: code, target: 'https://example.invalid' }, range: { start: { line, character: start }, end: { line, character: end } } };
}

describe('ruleAt', () => {
  const line = '            optimizer.step()  # expect: DLX001';
  it('finds the dlx-lint diagnostic under the cursor', () => {
    assert.equal(ruleAt([diag('DLX001', 35, 12, 28)], { line: 35, character: 20 }, line), 'DLX001');
  });
  it('prefers the smallest range and ignores other sources', () => {
    const diagnostics = [diag('DLX010', 3, 0, 40), diag('DLX001', 3, 10, 14), diag('E501', 3, 0, 50, 'flake8')];
    assert.equal(ruleAt(diagnostics, { line: 3, character: 12 }, ''), 'DLX001');
    assert.equal(ruleAt(diagnostics, { line: 3, character: 45 }, ''), undefined);
  });
  it('falls back to the only dlx-lint diagnostic on the line', () => {
    assert.equal(ruleAt([diag('DLX001', 35, 12, 28)], { line: 35, character: 2 }, line), 'DLX001');
    assert.equal(ruleAt([diag('DLX001', 35, 12, 28), diag('DLX010', 35, 0, 5)], { line: 35, character: 8 }, line), undefined);
  });
  it('reads codes and names in a # noqa comment', () => {
    const text = 'x = y.cuda()  # noqa: DLX104, missing-zero-grad';
    assert.equal(ruleAt([], { line: 0, character: text.indexOf('DLX104') + 2 }, text), 'DLX104');
    assert.equal(ruleAt([], { line: 0, character: text.indexOf('missing') + 3 }, text), 'missing-zero-grad');
    assert.equal(ruleAt([], { line: 0, character: 2 }, text), undefined);
  });
});

describe('noqaCodeAt', () => {
  it('takes the only code when the cursor is elsewhere in the comment', () => {
    const text = 'opt.step()  # NOQA:DLX001';
    assert.equal(noqaCodeAt(text, text.indexOf('#')), 'DLX001');
    assert.equal(noqaCodeAt(text, text.length), 'DLX001');
    assert.equal(noqaCodeAt('opt.step()  # noqa', 14), undefined);
    assert.equal(noqaCodeAt('opt.step()', 3), undefined);
  });
});
