// Unit tests of the settings object sent to the server.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { serverSettings } from '../src/settings';

function getter(values: Record<string, unknown>) {
  return (key: string): unknown => values[key];
}

describe('serverSettings', () => {
  it('has the server defaults when nothing is set, and no select', () => {
    assert.deepEqual(serverSettings(getter({})), {
      extendSelect: [],
      ignore: [],
      severity: {},
      unsafeFixes: false,
      lintOnChange: true,
      configurationPreference: 'editorFirst',
      logLevel: 'warning',
      codeAction: { fixViolation: { enable: true }, disableRuleComment: { enable: true } },
    });
  });
  it('leaves out an empty select (the default rule set), keeps a non-empty one', () => {
    assert.equal('select' in serverSettings(getter({ select: [] })), false);
    assert.deepEqual(serverSettings(getter({ select: ['DLX0', ' missing-zero-grad '] })).select, ['DLX0', 'missing-zero-grad']);
  });
  it('passes every server setting under the names the server reads', () => {
    const settings = serverSettings(getter({
      extendSelect: ['DLX101'],
      ignore: ['DLX010', 42],
      severity: { DLX001: 'hint' },
      unsafeFixes: true,
      lintOnChange: false,
      configurationPreference: 'filesystemFirst',
      logLevel: 'debug',
      'codeAction.fixViolation.enable': false,
      'codeAction.disableRuleComment.enable': false,
      interpreter: '/py',
      path: '/dlx-lint',
      enable: true,
    }));
    assert.deepEqual(settings, {
      extendSelect: ['DLX101'],
      ignore: ['DLX010'],
      severity: { DLX001: 'hint' },
      unsafeFixes: true,
      lintOnChange: false,
      configurationPreference: 'filesystemFirst',
      logLevel: 'debug',
      codeAction: { fixViolation: { enable: false }, disableRuleComment: { enable: false } },
    });
  });
  it('replaces values of the wrong type with defaults', () => {
    const settings = serverSettings(getter({ severity: ['x'], unsafeFixes: 'yes', configurationPreference: 'other' }));
    assert.deepEqual(settings.severity, {});
    assert.equal(settings.unsafeFixes, false);
    assert.equal(settings.configurationPreference, 'editorFirst');
  });
});
