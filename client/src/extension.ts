/**
 * dlx-lint for VS Code: a thin client of the `dlx-lint server` language server. All rule
 * logic, messages and fixes live in the server; this file wires commands, settings and the
 * language status item.
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { ServerCommand } from './interpreter';
import { ruleAt, SOURCE } from './ruleAtCursor';
import { SECTION, ServerManager, ServerState } from './server';
import { RESTART_KEYS } from './settings';

export const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append(SOURCE);
const RULE_DOC_SCHEME = 'dlx-lint-rule';

/** What `activate` returns: read-only views used by the e2e test driver. */
export interface DlxLintApi {
  state(): ServerState;
  serverCommand(): ServerCommand | undefined;
  shownProblems(): readonly string[];
  startCount(): number;
}

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): DlxLintApi {
  const output = vscode.window.createOutputChannel('dlx-lint', { log: true });
  const servers = new ServerManager(output);
  manager = servers;
  const ruleDocs = new RuleDocumentProvider();
  context.subscriptions.push(
    output,
    servers,
    statusItem(servers),
    vscode.workspace.registerTextDocumentContentProvider(RULE_DOC_SCHEME, ruleDocs),
    vscode.commands.registerCommand('dlx-lint.restart', () => servers.restart(true)),
    vscode.commands.registerCommand('dlx-lint.showLogs', () => {
      output.show(true);
    }),
    vscode.commands.registerCommand('dlx-lint.fixAll', () => fixAll()),
    vscode.commands.registerCommand('dlx-lint.showRuleDocumentation', (code?: unknown) =>
      showRuleDocumentation(servers, ruleDocs, typeof code === 'string' ? code : undefined),
    ),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.enable`)) {
        const enabled = vscode.workspace.getConfiguration(SECTION).get<boolean>('enable', true);
        void (enabled ? servers.restart() : servers.stop('disabled'));
      } else if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        output.info('interpreter or path changed: restarting the server');
        void servers.restart();
      } else if (event.affectsConfiguration(SECTION)) {
        void servers.settingsChanged();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      output.info('workspace trusted: its dlx-lint.interpreter and dlx-lint.path now apply; restarting');
      void servers.restart();
    }),
  );
  void servers.restart();
  return {
    state: () => servers.state,
    serverCommand: () => servers.serverCommand,
    shownProblems: () => servers.shownProblems,
    startCount: () => servers.startCount,
  };
}

export async function deactivate(): Promise<void> {
  if (manager) await manager.stop();
}

/** The language status item: server state; clicking it opens the logs. */
function statusItem(servers: ServerManager): vscode.Disposable {
  const item = vscode.languages.createLanguageStatusItem('dlx-lint.status', [{ language: 'python' }]);
  item.name = 'dlx-lint';
  item.command = { title: 'Show Logs', command: 'dlx-lint.showLogs' };
  const render = (state: ServerState) => {
    const labels: Record<ServerState, string> = {
      starting: '$(sync~spin) dlx-lint: starting',
      ready: '$(check) dlx-lint: ready',
      error: '$(error) dlx-lint: error',
      disabled: '$(circle-slash) dlx-lint: disabled',
      stopped: 'dlx-lint: stopped',
    };
    item.text = labels[state];
    item.busy = state === 'starting';
    item.severity = state === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
    item.detail = servers.detail;
  };
  render(servers.state);
  const subscription = servers.onDidChangeState(render);
  return vscode.Disposable.from(item, subscription);
}

/** Applies `source.fixAll.dlx-lint` to the active document; returns whether anything changed. */
async function fixAll(): Promise<boolean> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage('dlx-lint: open a Python file or notebook cell first.');
    return false;
  }
  const document = editor.document;
  const whole = new vscode.Range(0, 0, document.lineCount, 0);
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    'vscode.executeCodeActionProvider', document.uri, whole, FIX_ALL_KIND.value,
  );
  const action = (actions ?? []).find(
    (a): a is vscode.CodeAction => 'kind' in a && a.kind !== undefined && FIX_ALL_KIND.contains(a.kind) && a.edit !== undefined,
  );
  if (action?.edit === undefined) {
    void vscode.window.showInformationMessage('dlx-lint: no auto-fixable problems in this file.');
    return false;
  }
  return vscode.workspace.applyEdit(action.edit);
}

/** Holds the Markdown of the rules shown, served as `dlx-lint-rule:/DLX001.md`. */
class RuleDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly pages = new Map<string, string>();

  set(code: string, markdown: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: RULE_DOC_SCHEME, path: `/${code}.md` });
    this.pages.set(uri.toString(), markdown);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.toString()) ?? '';
  }
}

/** `dlx-lint rule CODE` through the server's own command line (same interpreter). */
function ruleMarkdown(command: ServerCommand, code: string): Promise<string> {
  const [program, args] = command.python !== undefined
    ? [command.python, ['-m', 'dlx_lint', 'rule', code]]
    : [command.command, ['rule', code]];
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 20000, windowsHide: true }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve(stdout);
    });
  });
}

/** Shows the explanation of the rule under the cursor (or of `code`) in a Markdown preview.
 * Returns what was shown (the e2e driver checks it). */
async function showRuleDocumentation(
  servers: ServerManager,
  docs: RuleDocumentProvider,
  code: string | undefined,
): Promise<{ code: string; markdown?: string; link?: string } | undefined> {
  const editor = vscode.window.activeTextEditor;
  let link: vscode.Uri | undefined;
  if (editor !== undefined) {
    const diagnostics = vscode.languages.getDiagnostics(editor.document.uri);
    const position = editor.selection.active;
    code = code ?? ruleAt(diagnostics, position, editor.document.lineAt(position.line).text);
    const withLink = diagnostics.find(
      (d) => d.source === SOURCE && typeof d.code === 'object' && String(d.code.value) === code,
    );
    if (withLink !== undefined && typeof withLink.code === 'object') link = withLink.code.target;
  }
  if (code === undefined) {
    void vscode.window.showInformationMessage('dlx-lint: put the cursor on a dlx-lint problem or on a code in a "# noqa:" comment.');
    return undefined;
  }
  const command = servers.serverCommand;
  if (command !== undefined) {
    try {
      const markdown = await ruleMarkdown(command, code);
      const uri = docs.set(code, markdown);
      try {
        await vscode.commands.executeCommand('markdown.showPreview', uri);
      } catch {
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
      }
      return { code, markdown };
    } catch (error) {
      if (link === undefined) void vscode.window.showWarningMessage(`dlx-lint: no documentation for ${code}: ${String(error)}`);
    }
  }
  if (link !== undefined) {
    await vscode.env.openExternal(link);
    return { code, link: link.toString() };
  }
  return undefined;
}
