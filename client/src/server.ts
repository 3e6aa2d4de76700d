/**
 * The language client's life cycle: resolve the command, check that dlx-lint can run there,
 * start, restart on demand, give up (with one notification) instead of restart-looping.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  DocumentSelector,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { PVSC_EXTENSION_ID, PythonExtension } from '@vscode/python-extension';
import {
  CheckResult,
  ResolveError,
  ServerCommand,
  checkServerCommand,
  describeCommand,
  installCommand,
  problemMessage,
  resolveServerCommand,
} from './interpreter';
import { serverSettings } from './settings';

export const SECTION = 'dlx-lint';

/** Python files on disk and untitled ones, and the Python cells of Jupyter notebooks and the
 * interactive window (the notebook filter form: cells then go through LSP notebook sync). */
export const DOCUMENT_SELECTOR: DocumentSelector = [
  { scheme: 'file', language: 'python' },
  { scheme: 'untitled', language: 'python' },
  { notebook: 'jupyter-notebook', language: 'python' },
  { notebook: 'interactive', language: 'python' },
];

export type ServerState = 'starting' | 'ready' | 'error' | 'disabled' | 'stopped';

const CHECK_TIMEOUT_MS = 30000;
const PYTHON_EXTENSION_TIMEOUT_MS = 15000;
const CRASH_WINDOW_MS = 3 * 60 * 1000;
const MAX_RESTARTS_IN_WINDOW = 2;

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private command: ServerCommand | undefined;
  private stateValue: ServerState = 'stopped';
  private stateDetail = '';
  private queue: Promise<void> = Promise.resolve();
  private crashes: number[] = [];
  private starts = 0;
  private readonly notified = new Set<string>();
  /** Every problem notification shown (for the e2e driver: the negative control checks it). */
  readonly shownProblems: string[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private pythonExtensionWatched = false;
  private readonly disposables: { dispose(): unknown }[] = [this.stateEmitter];

  constructor(private readonly output: vscode.LogOutputChannel) {}

  get state(): ServerState {
    return this.stateValue;
  }

  get detail(): string {
    return this.stateDetail;
  }

  get serverCommand(): ServerCommand | undefined {
    return this.command;
  }

  /** How many times a server process was started and initialized (restarts count). */
  get startCount(): number {
    return this.starts;
  }

  /** (Re)start the server. A user-initiated restart shows an unchanged problem again. */
  restart(userInitiated = false): Promise<void> {
    return this.enqueue(async () => {
      if (userInitiated) this.notified.clear();
      await this.stopClient();
      this.crashes = [];
      await this.startClient();
    });
  }

  /** Tells the running server that dlx-lint.* settings changed; it then pulls them
   * (workspace/configuration) and re-lints the open documents. No restart, no reload. */
  settingsChanged(): Promise<void> {
    return this.enqueue(async () => {
      const client = this.client;
      if (client === undefined || !client.isRunning()) return;
      this.output.info('settings changed: didChangeConfiguration');
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    });
  }

  stop(state: ServerState = 'stopped'): Promise<void> {
    return this.enqueue(async () => {
      await this.stopClient();
      this.setState(state, state === 'disabled' ? 'dlx-lint.enable is false' : '');
    });
  }

  dispose(): void {
    void this.stopClient();
    for (const d of this.disposables) d.dispose();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task).catch((error: unknown) => {
      this.output.error(`dlx-lint: ${String(error)}`);
    });
    this.queue = run;
    return run;
  }

  private setState(state: ServerState, detail: string): void {
    this.stateValue = state;
    this.stateDetail = detail;
    this.output.info(`state: ${state}${detail ? ` (${detail})` : ''}`);
    this.stateEmitter.fire(state);
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    try {
      if (client.isRunning()) await client.stop(5000);
      else await client.dispose(2000);
    } catch (error) {
      this.output.warn(`stopping the server: ${String(error)}`);
    }
  }

  private async startClient(): Promise<void> {
    if (!vscode.workspace.getConfiguration(SECTION).get<boolean>('enable', true)) {
      this.setState('disabled', 'dlx-lint.enable is false');
      return;
    }
    this.setState('starting', '');
    let command: ServerCommand;
    try {
      command = await this.resolveCommand();
    } catch (error) {
      const message = error instanceof ResolveError ? `dlx-lint: ${error.message}` : `dlx-lint: cannot resolve the interpreter: ${String(error)}`;
      this.fail(message, message);
      return;
    }
    this.command = command;
    this.output.info(`server command: ${describeCommand(command)} (${command.source})`);
    const check = await checkServerCommand(command, CHECK_TIMEOUT_MS);
    if (!check.ok) {
      this.failCheck(command, check);
      return;
    }
    this.output.info(`dlx-lint found: ${check.detail}`);
    const client = this.createClient(command);
    this.client = client;
    client.onDidChangeState((event) => {
      if (this.client !== client) return;
      if (event.newState === State.Running) {
        this.starts += 1;
        this.setState('ready', describeCommand(command));
      } else if (event.newState === State.Starting) {
        this.setState('starting', '');
      }
    });
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) {
        this.client = undefined;
        this.fail(`dlx-lint: the server did not start with "${describeCommand(command)}": ${String(error)}. See "dlx-lint: Show Logs".`, `start:${command.command}`);
      }
      try {
        await client.dispose(2000);
      } catch {
        // already gone
      }
    }
  }

  private failCheck(command: ServerCommand, check: Extract<CheckResult, { ok: false }>): void {
    this.output.error(`check failed (${check.kind}): ${check.detail}`);
    this.fail(problemMessage(command, check), `${check.kind}:${command.command}`, check.kind === 'not-installed' ? installCommand(command) : undefined);
  }

  /** Error state, and one notification per distinct problem (not one per attempt). */
  private fail(message: string, key: string, install?: string): void {
    this.setState('error', message);
    this.output.error(message);
    if (this.notified.has(key)) return;
    this.notified.add(key);
    this.shownProblems.push(message);
    const actions = install ? ['Copy Install Command', 'Show Logs'] : ['Show Logs'];
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === 'Copy Install Command' && install) void vscode.env.clipboard.writeText(install);
      else if (choice === 'Show Logs') this.output.show(true);
    });
  }

  private async resolveCommand(): Promise<ServerCommand> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const levels = (key: string) => {
      const inspected = config.inspect<string>(key);
      return {
        globalValue: inspected?.globalValue,
        workspaceValue: inspected?.workspaceValue,
        workspaceFolderValue: inspected?.workspaceFolderValue,
      };
    };
    return resolveServerCommand({
      path: levels('path'),
      interpreter: levels('interpreter'),
      trusted: vscode.workspace.isTrusted,
      workspaceFolder: folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined,
      userHome: os.homedir(),
      env: process.env,
      pythonExtensionInterpreter: () => this.pythonExtensionInterpreter(folder?.uri),
      defaultPython: process.platform === 'win32' ? 'python' : 'python3',
    });
  }

  /** The Python extension's active interpreter, when that extension is installed (it is an
   * optional companion, never a dependency). */
  private async pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
    if (vscode.extensions.getExtension(PVSC_EXTENSION_ID) === undefined) return undefined;
    const lookup = async (): Promise<string | undefined> => {
      const api = await PythonExtension.api();
      if (!this.pythonExtensionWatched) {
        this.pythonExtensionWatched = true;
        this.disposables.push(api.environments.onDidChangeActiveEnvironmentPath(() => {
          if (this.command?.source === 'python-extension' || this.command?.source === 'default') {
            this.output.info('the Python extension selected another interpreter: restarting');
            void this.restart();
          }
        }));
      }
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath;
    };
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, PYTHON_EXTENSION_TIMEOUT_MS));
    try {
      return await Promise.race([lookup(), timeout]);
    } catch (error) {
      this.output.warn(`the Python extension gave no interpreter: ${String(error)}`);
      return undefined;
    }
  }

  private createClient(command: ServerCommand): LanguageClient {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const serverOptions: ServerOptions = {
      command: command.command,
      args: command.args,
      // PYTHONSAFEPATH (Python 3.11+): `-m` must not put the workspace folder (the cwd) first on
      // sys.path, or a workspace `json.py` or `dlx_lint/` would be imported by the server. On
      // 3.10, dlx_lint drops that entry itself as it starts (lint_rules/dlx_lint/__init__.py).
      options: {
        cwd: folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined,
        env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONSAFEPATH: '1' },
      },
    };
    const settingsFor = (scope: vscode.Uri | undefined) => {
      const config = vscode.workspace.getConfiguration(SECTION, scope);
      return serverSettings((key) => config.get(key));
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      diagnosticCollectionName: SECTION,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: settingsFor(folder?.uri),
      // The server asks for the `dlx-lint` section (workspace/configuration) after start-up and
      // after each didChangeConfiguration (see `settingsChanged`); answer in the server's shape.
      middleware: {
        workspace: {
          configuration: async (params, token, next): Promise<unknown[] | ResponseError> => {
            const answer = (await next(params, token)) as unknown[] | ResponseError;
            if (answer instanceof ResponseError) return answer;
            const values = answer;
            return params.items.map((item, index) =>
              item.section === SECTION ? settingsFor(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : folder?.uri) : values[index],
            );
          },
        },
      },
      initializationFailedHandler: (error) => {
        this.output.error(`initialize failed: ${String(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) => {
          return { action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
        },
        closed: () => {
          const now = Date.now();
          this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
          this.crashes.push(now);
          if (this.crashes.length <= MAX_RESTARTS_IN_WINDOW) {
            this.output.warn(`the server stopped unexpectedly; restarting (${this.crashes.length}/${MAX_RESTARTS_IN_WINDOW})`);
            return { action: CloseAction.Restart, handled: true };
          }
          this.fail(
            `dlx-lint: the server stopped ${this.crashes.length} times in 3 minutes and will not be restarted. See "dlx-lint: Show Logs", then run "dlx-lint: Restart Server".`,
            `crash:${command.command}`,
          );
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    return new LanguageClient('dlx-lint', 'dlx-lint', serverOptions, clientOptions);
  }
}
