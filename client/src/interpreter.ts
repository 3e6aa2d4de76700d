/**
 * Which command starts the server, and whether it can run there. No `vscode` import: the
 * unit tests (client/test/interpreter.test.ts) run this module under plain Node.
 *
 * Order: `dlx-lint.path` (`<path> server`), else `dlx-lint.interpreter`
 * (`<python> -m dlx_lint server`), else the Python extension's active environment when that
 * extension is installed, else `python3` on PATH. In an untrusted workspace the workspace's
 * values of `path` and `interpreter` are ignored (only the user's own settings count).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

/** The values one setting has at each level (what `WorkspaceConfiguration.inspect` returns). */
export interface SettingLevels {
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
}

export type CommandSource = 'path' | 'interpreter' | 'python-extension' | 'default';

/** How to start the server. `python` is set when the command is a Python interpreter. */
export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
  python?: string;
}

export interface ResolveInputs {
  path: SettingLevels;
  interpreter: SettingLevels;
  /** `vscode.workspace.isTrusted`. */
  trusted: boolean;
  /** File-system path of the first workspace folder, if any. */
  workspaceFolder?: string;
  userHome: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The Python extension's active interpreter, or undefined (extension absent, no environment). */
  pythonExtensionInterpreter: () => Promise<string | undefined>;
  /** `python3` (POSIX) or `python` (Windows). */
  defaultPython: string;
}

export class ResolveError extends Error {}

export const SERVER_MODULE_ARGS = ['-m', 'dlx_lint', 'server'];

/**
 * The value a setting takes: the most specific level that is set. In an untrusted workspace
 * only the user (global) value counts, so a cloned repository cannot make the extension run
 * a program of its choosing.
 */
export function effectiveValue(levels: SettingLevels, trusted: boolean): string | undefined {
  const ordered = trusted ? [levels.workspaceFolderValue, levels.workspaceValue, levels.globalValue] : [levels.globalValue];
  const value = ordered.find((v) => v !== undefined);
  return value === undefined ? undefined : value.trim();
}

/**
 * Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~`; a relative
 * path with a directory part (`.venv/bin/python`) is taken from the workspace folder, a bare
 * name (`python3.12`) is left for a PATH lookup.
 *
 * @throws ResolveError when `${workspaceFolder}` or a relative path is used without a folder,
 *   or for an unknown `${...}` variable.
 */
export function expandPath(value: string, inputs: Pick<ResolveInputs, 'workspaceFolder' | 'userHome' | 'env'>): string {
  let result = value.replace(/\$\{([^}]*)\}/g, (whole: string, name: string) => {
    if (name === 'workspaceFolder' || name === 'workspaceRoot') {
      if (inputs.workspaceFolder === undefined) throw new ResolveError(`${whole} is used in "${value}" but no folder is open`);
      return inputs.workspaceFolder;
    }
    if (name === 'userHome') return inputs.userHome;
    if (name.startsWith('env:')) return inputs.env[name.slice(4)] ?? '';
    throw new ResolveError(`unknown variable ${whole} in "${value}"`);
  });
  if (result === '~' || result.startsWith('~/') || result.startsWith('~\\')) result = inputs.userHome + result.slice(1);
  const hasDirectory = result.includes('/') || result.includes('\\');
  if (hasDirectory && !path.isAbsolute(result)) {
    if (inputs.workspaceFolder === undefined) throw new ResolveError(`relative path "${value}" needs an open folder`);
    result = path.join(inputs.workspaceFolder, result);
  }
  return result;
}

/** The command that starts the server (see the module comment for the order). */
export async function resolveServerCommand(inputs: ResolveInputs): Promise<ServerCommand> {
  const executable = effectiveValue(inputs.path, inputs.trusted);
  if (executable) {
    return { command: expandPath(executable, inputs), args: ['server'], source: 'path' };
  }
  const interpreter = effectiveValue(inputs.interpreter, inputs.trusted);
  if (interpreter) {
    const python = expandPath(interpreter, inputs);
    return { command: python, args: [...SERVER_MODULE_ARGS], source: 'interpreter', python };
  }
  let fromExtension: string | undefined;
  try {
    fromExtension = await inputs.pythonExtensionInterpreter();
  } catch {
    fromExtension = undefined; // the Python extension failed to answer: fall back to PATH
  }
  if (fromExtension) {
    return { command: fromExtension, args: [...SERVER_MODULE_ARGS], source: 'python-extension', python: fromExtension };
  }
  return { command: inputs.defaultPython, args: [...SERVER_MODULE_ARGS], source: 'default', python: inputs.defaultPython };
}

/** The command line as one readable string (for logs and messages). */
export function describeCommand(command: ServerCommand): string {
  return [command.command, ...command.args].map((part) => (/\s/.test(part) ? `"${part}"` : part)).join(' ');
}

export type CheckResult =
  | { ok: true; detail: string }
  | { ok: false; kind: 'not-found' | 'not-installed' | 'python-too-old' | 'failed'; detail: string };

/** The oldest Python dlx-lint runs on (pyproject.toml: requires-python). */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** The process to run to see that the server can start: importing the server package (no
 * LSP traffic) or `dlx-lint version`. */
export function checkInvocation(command: ServerCommand): { command: string; args: string[] } {
  if (command.python !== undefined) {
    return {
      command: command.python,
      // The Python version first, so that a failed import can still tell "too old".
      args: ['-c', 'import sys; print(sys.version.split()[0], flush=True); import dlx_lint, dlx_lint_server; print(dlx_lint.__version__)'],
    };
  }
  return { command: command.command, args: ['version'] };
}

export interface ExecOutcome {
  /** Node's error code when the process could not be started (`ENOENT`, `EACCES`) or timed out. */
  errorCode?: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Sorts the outcome of `checkInvocation` into "fine", "no such program",
 * "dlx-lint not installed there" and "failed otherwise". */
export function classifyCheck(outcome: ExecOutcome, python: boolean): CheckResult {
  const output = `${outcome.stderr}\n${outcome.stdout}`.trim();
  if (outcome.errorCode === 'ENOENT' || outcome.errorCode === 'EACCES' || outcome.errorCode === 'ENOTDIR') {
    return { ok: false, kind: 'not-found', detail: outcome.errorCode };
  }
  const lines = outcome.stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const pythonVersion = python && lines.length > 0 && /^\d+\.\d+/.test(lines[0]) ? lines[0] : undefined;
  if (outcome.exitCode === 0 && outcome.errorCode === undefined) {
    const detail = python && pythonVersion !== undefined && lines.length > 1 ? `dlx-lint ${lines[1]}, Python ${pythonVersion}` : lines.join(' ');
    return { ok: true, detail };
  }
  if (pythonVersion !== undefined && olderThan(pythonVersion, MIN_PYTHON)) {
    return { ok: false, kind: 'python-too-old', detail: pythonVersion };
  }
  if (/No module named '?dlx_lint/.test(output) || /ModuleNotFoundError/.test(output)) {
    return { ok: false, kind: 'not-installed', detail: lastLine(outcome.stderr) || lastLine(output) };
  }
  const why = outcome.errorCode === 'ETIMEDOUT' ? 'timed out' : `exit code ${String(outcome.exitCode)}`;
  return { ok: false, kind: 'failed', detail: `${why}: ${lastLine(outcome.stderr) || lastLine(output)}` };
}

function olderThan(version: string, minimum: readonly [number, number]): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major < minimum[0] || (major === minimum[0] && minor < minimum[1]);
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length ? lines[lines.length - 1].trim() : '';
}

/** Runs `checkInvocation(command)` and classifies it. */
export function checkServerCommand(command: ServerCommand, timeoutMs = 30000, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const { command: program, args } = checkInvocation(command);
  return new Promise((resolve) => {
    execFile(program, args, { timeout: timeoutMs, env, windowsHide: true }, (error, stdout, stderr) => {
      const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
      let errorCode: string | undefined;
      let exitCode: number | null = 0;
      if (err) {
        if (typeof err.code === 'string') errorCode = err.code;
        else if (err.killed) errorCode = 'ETIMEDOUT';
        exitCode = typeof err.code === 'number' ? err.code : null;
      }
      resolve(classifyCheck({ errorCode, exitCode, stdout, stderr }, command.python !== undefined));
    });
  });
}

/** The one message shown when the server cannot start with `command`. */
export function problemMessage(command: ServerCommand, result: Extract<CheckResult, { ok: false }>): string {
  const where = describeSource(command);
  if (result.kind === 'not-found') {
    return `dlx-lint: cannot run ${command.python !== undefined ? 'the Python interpreter' : 'the dlx-lint executable'} "${command.command}" (${where}). Set dlx-lint.interpreter to a Python >= 3.10 that has dlx-lint installed.`;
  }
  if (result.kind === 'python-too-old') {
    return `dlx-lint needs Python ${MIN_PYTHON.join('.')} or newer, but "${command.command}" (${where}) is Python ${result.detail}. Set dlx-lint.interpreter to a newer Python that has dlx-lint installed.`;
  }
  if (result.kind === 'not-installed') {
    return `dlx-lint is not installed in the Python environment "${command.command}" (${where}). Install it there with: ${installCommand(command)} — then run "dlx-lint: Restart Server".`;
  }
  return `dlx-lint: the server cannot start with "${describeCommand(command)}" (${where}): ${result.detail}. See "dlx-lint: Show Logs".`;
}

/** `"<python>" -m pip install dlx-lint` for the interpreter that lacks it. */
export function installCommand(command: ServerCommand): string {
  const python = command.python ?? 'python3';
  return `${/\s/.test(python) ? `"${python}"` : python} -m pip install dlx-lint`;
}

function describeSource(command: ServerCommand): string {
  switch (command.source) {
    case 'path':
      return 'from the dlx-lint.path setting';
    case 'interpreter':
      return 'from the dlx-lint.interpreter setting';
    case 'python-extension':
      return "the Python extension's selected interpreter";
    case 'default':
      return 'python3 on PATH; set dlx-lint.interpreter to use another';
  }
}
