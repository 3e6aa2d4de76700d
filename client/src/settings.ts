/**
 * The settings object the server reads (server/dlx_lint_server/settings.py): sent as
 * `initializationOptions` and as the answer to `workspace/configuration` for the `dlx-lint`
 * section. No `vscode` import (unit-tested under plain Node).
 */

/** The `dlx-lint` section, read key by key (`WorkspaceConfiguration.get`). */
export type SettingGetter = (key: string) => unknown;

/** Settings whose change needs a new server process rather than a didChangeConfiguration. */
export const RESTART_KEYS = ['interpreter', 'path'] as const;

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

/**
 * The server's settings. An empty `select` is left out: for the server an empty list would
 * mean "no rule at all", while the setting's default (`[]`) means "the default rule set".
 */
export function serverSettings(get: SettingGetter): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const select = stringList(get('select'));
  if (select.length > 0) settings.select = select;
  settings.extendSelect = stringList(get('extendSelect'));
  settings.ignore = stringList(get('ignore'));
  const severity = get('severity');
  settings.severity = severity !== null && typeof severity === 'object' && !Array.isArray(severity) ? { ...severity } : {};
  settings.unsafeFixes = bool(get('unsafeFixes'), false);
  settings.lintOnChange = bool(get('lintOnChange'), true);
  const preference = get('configurationPreference');
  settings.configurationPreference = preference === 'filesystemFirst' ? 'filesystemFirst' : 'editorFirst';
  const logLevel = get('logLevel');
  settings.logLevel = typeof logLevel === 'string' && logLevel ? logLevel : 'warning';
  settings.codeAction = {
    fixViolation: { enable: bool(get('codeAction.fixViolation.enable'), true) },
    disableRuleComment: { enable: bool(get('codeAction.disableRuleComment.enable'), true) },
  };
  return settings;
}
