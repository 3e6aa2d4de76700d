// Unit tests of the interpreter resolution (node --test; run by `npm test`).
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ResolveError,
  ResolveInputs,
  checkInvocation,
  checkServerCommand,
  classifyCheck,
  effectiveValue,
  expandPath,
  installCommand,
  problemMessage,
  resolveServerCommand,
} from '../src/interpreter';

function inputs(overrides: Partial<ResolveInputs> = {}): ResolveInputs {
  return {
    path: {},
    interpreter: {},
    trusted: true,
    workspaceFolder: '/ws',
    userHome: '/home/u',
    env: { VENV: '/opt/venv' },
    pythonExtensionInterpreter: () => Promise.resolve(undefined),
    defaultPython: 'python3',
    ...overrides,
  };
}

describe('effectiveValue', () => {
  it('takes the most specific level when trusted', () => {
    assert.equal(effectiveValue({ globalValue: '/g', workspaceValue: '/w', workspaceFolderValue: '/f' }, true), '/f');
    assert.equal(effectiveValue({ globalValue: '/g', workspaceValue: '/w' }, true), '/w');
    assert.equal(effectiveValue({ globalValue: '/g' }, true), '/g');
    assert.equal(effectiveValue({}, true), undefined);
  });
  it('ignores workspace levels in an untrusted workspace', () => {
    assert.equal(effectiveValue({ globalValue: '/g', workspaceValue: '/w', workspaceFolderValue: '/f' }, false), '/g');
    assert.equal(effectiveValue({ workspaceValue: '/w' }, false), undefined);
  });
  it('trims; an explicit empty value at a more specific level wins (and means auto-discovery)', () => {
    assert.equal(effectiveValue({ globalValue: '/g', workspaceValue: '  ' }, true), '');
    assert.equal(effectiveValue({ globalValue: ' /g ' }, true), '/g');
  });
});

describe('expandPath', () => {
  const base = { workspaceFolder: '/ws', userHome: '/home/u', env: { VENV: '/opt/venv' } };
  it('expands variables', () => {
    assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', base), '/ws/.venv/bin/python');
    assert.equal(expandPath('${userHome}/py/bin/python', base), '/home/u/py/bin/python');
    assert.equal(expandPath('${env:VENV}/bin/python', base), '/opt/venv/bin/python');
    assert.equal(expandPath('~/env/bin/python', base), '/home/u/env/bin/python');
  });
  it('takes relative paths from the workspace folder and leaves bare names for PATH', () => {
    assert.equal(expandPath('.venv/bin/python', base), '/ws/.venv/bin/python');
    assert.equal(expandPath('python3.12', base), 'python3.12');
    assert.equal(expandPath('/usr/bin/python3', base), '/usr/bin/python3');
  });
  it('refuses what it cannot expand', () => {
    const noFolder = { ...base, workspaceFolder: undefined };
    assert.throws(() => expandPath('${workspaceFolder}/python', noFolder), ResolveError);
    assert.throws(() => expandPath('venv/bin/python', noFolder), ResolveError);
    assert.throws(() => expandPath('${config:python.path}', base), /unknown variable/);
  });
});

describe('resolveServerCommand', () => {
  it('prefers dlx-lint.path, run as `<path> server`', async () => {
    const command = await resolveServerCommand(inputs({ path: { globalValue: '~/bin/dlx-lint' }, interpreter: { globalValue: '/py' } }));
    assert.deepEqual(command, { command: '/home/u/bin/dlx-lint', args: ['server'], source: 'path' });
  });
  it('then dlx-lint.interpreter, run as `<python> -m dlx_lint server`', async () => {
    let asked = false;
    const command = await resolveServerCommand(inputs({
      interpreter: { workspaceValue: '${workspaceFolder}/.venv/bin/python' },
      pythonExtensionInterpreter: () => { asked = true; return Promise.resolve('/ext/python'); },
    }));
    assert.deepEqual(command, {
      command: '/ws/.venv/bin/python', args: ['-m', 'dlx_lint', 'server'], source: 'interpreter', python: '/ws/.venv/bin/python',
    });
    assert.equal(asked, false, 'the Python extension is not consulted when the setting is set');
  });
  it("then the Python extension's active environment", async () => {
    const command = await resolveServerCommand(inputs({ pythonExtensionInterpreter: () => Promise.resolve('/ext/python') }));
    assert.equal(command.source, 'python-extension');
    assert.equal(command.command, '/ext/python');
    assert.deepEqual(command.args, ['-m', 'dlx_lint', 'server']);
  });
  it('then python3 on PATH (no Python extension, or it fails)', async () => {
    assert.equal((await resolveServerCommand(inputs())).command, 'python3');
    const failing = await resolveServerCommand(inputs({ pythonExtensionInterpreter: () => Promise.reject(new Error('boom')) }));
    assert.deepEqual(failing, { command: 'python3', args: ['-m', 'dlx_lint', 'server'], source: 'default', python: 'python3' });
  });
  it('ignores the workspace interpreter and path in an untrusted workspace', async () => {
    const untrusted = inputs({
      trusted: false,
      path: { workspaceValue: '/evil/dlx-lint' },
      interpreter: { workspaceValue: '/evil/python', globalValue: '/mine/python' },
    });
    const command = await resolveServerCommand(untrusted);
    assert.equal(command.command, '/mine/python');
    assert.equal(command.source, 'interpreter');
    const none = await resolveServerCommand({ ...untrusted, interpreter: { workspaceValue: '/evil/python' } });
    assert.equal(none.command, 'python3');
  });
  it('an empty workspace value falls through to discovery', async () => {
    const command = await resolveServerCommand(inputs({ interpreter: { globalValue: '/g', workspaceValue: '' } }));
    assert.equal(command.source, 'default');
  });
});

describe('installation check', () => {
  it('imports the server package with the interpreter, or runs `dlx-lint version`', () => {
    const python = checkInvocation({ command: '/py', args: [], source: 'interpreter', python: '/py' });
    assert.equal(python.command, '/py');
    assert.match(python.args.join(' '), /import .*dlx_lint_server/);
    assert.deepEqual(checkInvocation({ command: '/bin/dlx-lint', args: ['server'], source: 'path' }), { command: '/bin/dlx-lint', args: ['version'] });
  });
  it('classifies outcomes', () => {
    assert.deepEqual(classifyCheck({ exitCode: 0, stdout: '3.11.7\n0.1.0\n', stderr: '' }, true), { ok: true, detail: 'dlx-lint 0.1.0, Python 3.11.7' });
    assert.deepEqual(classifyCheck({ exitCode: 0, stdout: 'dlx-lint 0.1.0\n', stderr: '' }, false), { ok: true, detail: 'dlx-lint 0.1.0' });
    assert.deepEqual(classifyCheck({ errorCode: 'ENOENT', exitCode: null, stdout: '', stderr: '' }, true), { ok: false, kind: 'not-found', detail: 'ENOENT' });
    const missing = classifyCheck({ exitCode: 1, stdout: '3.12.1\n', stderr: "Traceback...\nModuleNotFoundError: No module named 'dlx_lint'\n" }, true);
    assert.deepEqual(missing, { ok: false, kind: 'not-installed', detail: "ModuleNotFoundError: No module named 'dlx_lint'" });
    const old = classifyCheck({ exitCode: 1, stdout: '3.8.10\n', stderr: "ModuleNotFoundError: No module named 'dlx_lint'\n" }, true);
    assert.deepEqual(old, { ok: false, kind: 'python-too-old', detail: '3.8.10' });
    const other = classifyCheck({ exitCode: 1, stdout: '3.11.7\n', stderr: 'SyntaxError: bad\n' }, true);
    assert.equal(!other.ok && other.kind, 'failed');
    const timeout = classifyCheck({ errorCode: 'ETIMEDOUT', exitCode: null, stdout: '', stderr: '' }, true);
    assert.equal(!timeout.ok && timeout.detail.startsWith('timed out'), true);
  });
  it('says when the interpreter is too old', () => {
    const command = { command: '/usr/bin/python3.8', args: [], source: 'default' as const, python: '/usr/bin/python3.8' };
    assert.match(problemMessage(command, { ok: false, kind: 'python-too-old', detail: '3.8.10' }), /needs Python 3\.10 or newer.*Python 3\.8\.10/);
  });
  it('says how to install dlx-lint into that interpreter', () => {
    const command = { command: '/p y/python', args: [], source: 'interpreter' as const, python: '/p y/python' };
    assert.equal(installCommand(command), '"/p y/python" -m pip install dlx-lint');
    const message = problemMessage(command, { ok: false, kind: 'not-installed', detail: '' });
    assert.match(message, /not installed/);
    assert.match(message, /"\/p y\/python" -m pip install dlx-lint/);
  });
  it('runs the check for real: a missing program and a Python without dlx-lint', async () => {
    const missing = await checkServerCommand({ command: '/nonexistent/python', args: [], source: 'interpreter', python: '/nonexistent/python' });
    assert.deepEqual(missing, { ok: false, kind: 'not-found', detail: 'ENOENT' });
    // A fake interpreter that fails the way Python does when the package is absent.
    const dir = mkdtempSync(join(tmpdir(), 'dlx-fake-python-'));
    const fake = join(dir, 'python');
    writeFileSync(fake, "#!/bin/sh\necho 3.11.7\necho \"ModuleNotFoundError: No module named 'dlx_lint'\" >&2\nexit 1\n");
    chmodSync(fake, 0o755);
    const notInstalled = await checkServerCommand({ command: fake, args: [], source: 'interpreter', python: fake });
    assert.equal(!notInstalled.ok && notInstalled.kind, 'not-installed');
  });
  it('accepts an interpreter that has dlx-lint (DLX_TEST_PYTHON)', { skip: process.env.DLX_TEST_PYTHON === undefined }, async () => {
    const python = process.env.DLX_TEST_PYTHON ?? '';
    const result = await checkServerCommand({ command: python, args: [], source: 'interpreter', python });
    assert.equal(result.ok, true, JSON.stringify(result));
  });
});
