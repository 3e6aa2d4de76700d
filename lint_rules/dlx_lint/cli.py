"""The ``dlx-lint`` command: ``check``, ``rule``, ``version`` and ``server``.

Exit codes (ruff's): 0 no findings (or ``--exit-zero``), 1 findings, 2 usage, configuration or
path errors (a one-line message on stderr, never a traceback). Heavy modules (libcst, the
rules) are imported only by the subcommands that need them; pygls only by ``server``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn, Sequence

PROG = "dlx-lint"

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class UsageError(Exception):
    """A problem with the command line or the environment; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``dlx-lint check: error: ...``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _torch_version(text: str) -> tuple[int, int]:
    from .config import parse_torch_version

    try:
        return parse_torch_version(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dlx-lint`` command (also used to render ``--help``).

    Its subcommand parsers are in the returned parser's ``subcommands`` attribute (a dict).
    """
    from . import __version__

    parser = _Parser(
        prog=PROG,
        description="A linter for PyTorch code: finds the bugs that do not crash but quietly ruin training.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check",
        help="lint files, directories and notebooks",
        description="Lint Python files (.py, .pyi) and Jupyter notebooks (.ipynb). Directories are searched "
        "recursively. Exit status: 0 no findings, 1 findings, 2 error.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to lint (default: .); - reads standard input")
    rules = check.add_argument_group("rule selection (codes, prefixes such as DLX0, names, or ALL; comma-separated)")
    rules.add_argument("--select", type=_comma_list, action="extend", metavar="RULES", help="enable exactly these rules (replaces the configured selection)")
    rules.add_argument("--extend-select", type=_comma_list, action="extend", default=[], metavar="RULES", help="enable these rules in addition")
    rules.add_argument("--ignore", type=_comma_list, action="extend", default=[], metavar="RULES", help="disable these rules")
    files = check.add_argument_group("file selection")
    files.add_argument("--exclude", type=_comma_list, action="extend", metavar="GLOBS", help="globs of paths to skip while searching directories (replaces the configured list)")
    files.add_argument("--extend-exclude", type=_comma_list, action="extend", default=[], metavar="GLOBS", help="globs of paths to skip, in addition to the configured ones")
    files.add_argument("--stdin-filename", metavar="PATH", help="the name of the file read from standard input (for configuration, per-file ignores and messages)")
    files.add_argument("--force-exclude", action="store_true", help="apply the exclude globs to files named on the command line too (use it in pre-commit hooks)")
    files.add_argument(
        "--no-default-path", action="store_true",
        help="with no PATH, lint nothing instead of the current directory (for callers that pass the files to check, possibly none)",
    )
    settings = check.add_argument_group("settings")
    settings.add_argument("--config", metavar="PATH", help="use this pyproject.toml for every file instead of searching for one")
    settings.add_argument("--target-torch-version", type=_torch_version, metavar="X.Y", help="oldest PyTorch release the code must run on, e.g. 2.4")
    fixes = check.add_argument_group("fixes")
    fixes.add_argument("--fix", action="store_true", help="apply safe fixes (and unsafe ones with --unsafe-fixes); exit 0 only when nothing remains")
    fixes.add_argument("--unsafe-fixes", action="store_true", help="also apply (and count as fixable) fixes that may change behaviour")
    fixes.add_argument("--diff", action="store_true", help="print a unified diff of what --fix would change and write nothing; exit 1 if there is something to fix")
    fixes.add_argument("--show-fixes", action="store_true", help="with --fix or --diff, list the fixes per file and rule")
    settings.add_argument(
        "--cross-file", action="store_true",
        help="follow names imported from other modules of the project (an optimizer returned by a helper in utils.py, a model "
        "class from models.py) with jedi's static analysis; slower, and turns the result cache off",
    )
    output = check.add_argument_group("output")
    output.add_argument(
        "--output-format", choices=_format_names(), default="concise", metavar="FORMAT",
        help="concise (default: path:row:col: CODE message), full (with a code frame and the fix title), json, json-lines, "
        "sarif (SARIF 2.1.0), github (workflow-command annotations), gitlab (Code Quality report) or junit (JUnit XML)",
    )
    output.add_argument("-o", "--output-file", metavar="PATH", help="write the report to this file instead of standard output")
    output.add_argument("--exit-zero", action="store_true", help="exit with status 0 even when there are findings")
    output.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only, no summary line")
    output.add_argument("-j", "--jobs", type=_positive_int, metavar="N", help="worker processes (default: number of CPUs)")
    _add_pipeline_arguments(check, output)
    check.set_defaults(handler=_run_check)

    rule = commands.add_parser(
        "rule",
        help="explain a rule, or list all rules",
        description="Print the explanation of one rule (Markdown), or list every rule with --all.",
    )
    rule.add_argument("rule", nargs="?", metavar="CODE|NAME", help="a rule code (DLX001) or name (missing-zero-grad)")
    rule.add_argument("--all", action="store_true", help="list every rule: code, name, severity, summary")
    rule.add_argument("--output-format", choices=("text", "json"), default="text", help="text (default) or json")
    rule.set_defaults(handler=_run_rule)

    version = commands.add_parser("version", help="print the version", description="Print the version of dlx-lint.")
    version.set_defaults(handler=_run_version)

    server = commands.add_parser(
        "server",
        help="run the language server (LSP over standard input/output)",
        description="Run the dlx-lint language server, speaking LSP over standard input and output.",
    )
    server.add_argument("--stdio", action="store_true", help="use standard input/output (the default and only transport)")
    server.set_defaults(handler=_run_server)
    parser.subcommands = dict(commands.choices)  # type: ignore[attr-defined]
    return parser


def _add_pipeline_arguments(check: argparse.ArgumentParser, output) -> None:
    """Options for CI and adoption: statistics, settings, noqa insertion and the cache."""
    output.add_argument("--statistics", action="store_true", help="print the number of findings per rule (and how many are fixable) instead of the findings")
    modes = check.add_argument_group("other actions (instead of the report; one at a time)").add_mutually_exclusive_group()
    modes.add_argument("--show-settings", action="store_true", help="print the effective settings for the first PATH (default: .) and exit")
    modes.add_argument("--add-noqa", action="store_true", help="add `# noqa: CODE` comments to every line with a finding (keeping existing codes) and exit")
    cache = check.add_argument_group("cache")
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    cache.add_argument("--cache-dir", metavar="DIR", help="the cache directory (default: the cache-dir setting, else .dlx_lint_cache at the project root)")


def _format_names() -> list[str]:
    from .output import FORMATS

    return list(FORMATS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status (0, 1 or 2).
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    subcommand = parser.subcommands.get(arguments[0]) if arguments else None
    if subcommand is not None:
        # Options and paths may be mixed (`check a.py --select DLX001 b.py`), which a
        # nargs="*" positional only allows with intermixed parsing.
        args = subcommand.parse_intermixed_args(arguments[1:])
    else:
        args = parser.parse_args(arguments)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return handler(args)
    except UsageError as error:
        _error(str(error))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`dlx-lint check | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FINDINGS


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")


def _run_check(args: argparse.Namespace) -> int:
    from .config import ConfigError, Overrides, SettingsResolver
    from .runner import PathNotFoundError, lint_paths, tune_gc_for_batch

    tune_gc_for_batch()  # this process is ours: a batch run, not a host application
    overrides = Overrides(
        select=tuple(args.select) if args.select is not None else None,
        extend_select=tuple(args.extend_select),
        ignore=tuple(args.ignore),
        exclude=tuple(args.exclude) if args.exclude is not None else None,
        extend_exclude=tuple(args.extend_exclude),
        target_torch_version=args.target_torch_version,
        cross_file=args.cross_file,
    )
    paths = args.paths
    use_stdin = paths == ["-"] or (not paths and args.stdin_filename is not None)
    if "-" in paths and not use_stdin:
        raise UsageError("`-` (standard input) cannot be combined with other paths")
    if use_stdin and args.add_noqa:
        raise UsageError("--add-noqa edits files; it cannot be used with standard input")
    _refuse_conflicting_modes(args)
    try:
        resolver = SettingsResolver(overrides=overrides, config_path=args.config)
        if args.show_settings:
            return _show_settings(args, resolver)
        if args.fix or args.diff:
            from .fix_command import run_fix

            return run_fix(args, resolver, use_stdin)
        if args.add_noqa:
            return _add_noqa(paths, args, resolver)
        sources: dict[str, str] = {}
        if use_stdin:
            diagnostics = _check_stdin(args.stdin_filename, resolver, sources)
        elif not paths and args.no_default_path:
            diagnostics = []
        else:
            diagnostics = lint_paths(
                paths or ["."], resolver, args.jobs, cache=_open_cache(args, resolver), force_exclude=args.force_exclude,
            )
    except (ConfigError, PathNotFoundError) as error:
        raise UsageError(str(error)) from None
    _print_report(
        diagnostics, args.output_format, quiet=args.quiet, output_file=args.output_file, sources=sources,
        statistics=args.statistics, unsafe_fixes=args.unsafe_fixes,
    )
    if diagnostics and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


def _check_stdin(filename: str | None, resolver, sources: dict[str, str]) -> list:
    from .runner import lint_data

    data = sys.stdin.buffer.read()
    path = filename or "-"
    sources[path] = data.decode("utf-8", errors="replace")
    settings = resolver.for_file(filename) if filename else resolver.default()
    return lint_data(path, data, settings)


def _open_cache(args: argparse.Namespace, resolver):
    """The run's result cache, or None with ``--no-cache`` or ``--cross-file`` (a file's findings
    then depend on other files, which the per-file cache key does not cover)."""
    if args.no_cache or args.cross_file:
        return None
    from .cache import Cache, resolve_cache_dir

    return Cache(resolve_cache_dir(resolver, args.cache_dir))


def _show_settings(args: argparse.Namespace, resolver) -> int:
    from . import show_settings
    from .cache import resolve_cache_dir

    if args.paths and args.paths != ["-"]:
        path = args.paths[0]
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
    else:
        path = args.stdin_filename or "."  # standard input is described by its file name
    cache_dir = None if args.no_cache else resolve_cache_dir(resolver, args.cache_dir)
    data = show_settings.effective_settings(path, resolver, cache_dir)
    text = show_settings.render_json(data) if args.output_format == "json" else show_settings.render_text(data)
    _emit(text, args.output_file)
    return EXIT_OK


def _refuse_conflicting_modes(args: argparse.Namespace) -> None:
    """Raise `UsageError` for two modes that would each ignore the other (the second one used
    to be dropped silently)."""
    fixing = "--fix" if args.fix else "--diff" if args.diff else None
    if fixing and args.add_noqa:
        raise UsageError(f"--add-noqa cannot be combined with {fixing}: fix first, then suppress what remains")
    if fixing and args.statistics:
        raise UsageError(f"--statistics cannot be combined with {fixing}")
    if args.add_noqa and args.statistics:
        raise UsageError("--statistics cannot be combined with --add-noqa")


def _add_noqa(paths: list[str], args: argparse.Namespace, resolver) -> int:
    """Lint, write the directives and report on stderr (ruff's wording: ``Added N noqa
    directives.``), one warning line per finding that got none. Exits 0, as ruff does.

    The lint records a hash of the bytes each file had (no result cache: the directives go
    exactly where the linted bytes had their findings), and a file that no longer holds them
    is not edited."""
    from .add_noqa import add_noqa
    from .runner import discover, lint_files_keyed

    if not paths and args.no_default_path:
        tasks = []
    else:
        tasks = list(discover(paths or ["."], resolver, force_exclude=args.force_exclude))
    results = lint_files_keyed(tasks, args.jobs)
    diagnostics = [d for _, _, found in results for d in found]
    linted = {path: content for path, content, _ in results}
    roots = {path: settings.project_root for path, settings in tasks}
    report = add_noqa(diagnostics, linted, roots)
    for message in report.skipped:
        sys.stderr.write(f"{PROG}: warning: {message}\n")
    count = report.added
    sys.stderr.write(f"Added {count} noqa directive{'s' if count != 1 else ''}.\n")
    return EXIT_OK


def _print_report(
    diagnostics: list, format_name: str, *, quiet: bool, output_file: str | None = None, sources: dict | None = None,
    statistics: bool = False, unsafe_fixes: bool = False,
) -> None:
    """Render the report (or the statistics) and write it to standard output or `output_file`.

    Raises:
        UsageError: the output file cannot be written.
    """
    from .output import get_format

    if statistics:
        from . import statistics as stats

        text = stats.render_json(diagnostics) if format_name == "json" else stats.render_text(diagnostics, quiet=quiet, unsafe=unsafe_fixes)
        _emit(text, output_file)
        return
    renderer = get_format(format_name)
    if getattr(renderer, "NEEDS_SOURCES", False):
        text = renderer.render(diagnostics, sources=sources)
    else:
        text = renderer.render(diagnostics)
    if renderer.SUMMARY and not quiet:
        text += summary_line(len(diagnostics)) + "\n"
        from .fix_command import fixable_hint

        hint = fixable_hint(diagnostics, unsafe=unsafe_fixes)
        if hint:
            text += hint + "\n"
    _emit(text, output_file)


def _emit(text: str, output_file: str | None) -> None:
    """Write `text` to standard output, or to `output_file` (parent folders created).

    Raises:
        UsageError: the output file cannot be written.
    """
    if output_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        directory = os.path.dirname(os.path.abspath(output_file))
        os.makedirs(directory, exist_ok=True)
        with open(output_file, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise UsageError(f"{output_file}: cannot write the report: {error.strerror or error}") from None


def summary_line(count: int) -> str:
    """ruff's closing line: ``All checks passed!`` or ``Found N error(s).`` (every diagnostic
    counts, whatever its severity, as every diagnostic makes the exit status 1)."""
    if count == 0:
        return "All checks passed!"
    return f"Found {count} error{'s' if count != 1 else ''}."


INTERNAL_ERROR_TEXT = """# DLX999 internal-error

Not a rule: dlx-lint reports its own failures under this code instead of crashing, so that the
other files and rules still run. It appears when a rule raised an exception on a file ("rule
DLX0nn (...) failed on this file"), or when a fix produced code that does not parse and was
dropped ("reported as a bug, never written"). The rest of the file's findings are still
reported. It is reported whatever the rule selection; please report it with the file (or a
small excerpt that reproduces it).
"""


def _run_rule(args: argparse.Namespace) -> int:
    import json

    from .registry import all_rules, find_rule

    if args.all == (args.rule is not None):
        raise UsageError("give either a rule code or name, or --all")
    if args.all:
        rules = all_rules()
        if args.output_format == "json":
            sys.stdout.write(json.dumps([_rule_dict(rule) for rule in rules], indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(_rule_table(rules))
        return EXIT_OK
    rule = find_rule(args.rule)
    if rule is None and args.rule.strip().upper() in ("DLX999", "INTERNAL-ERROR"):
        sys.stdout.write(INTERNAL_ERROR_TEXT)
        return EXIT_OK
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r} (see `{PROG} rule --all`)")
    from .explain import render_markdown

    if args.output_format == "json":
        entry = _rule_dict(rule)
        entry["explanation"] = render_markdown(rule)
        sys.stdout.write(json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_markdown(rule))
    return EXIT_OK


def _rule_dict(rule) -> dict:
    from .diagnostics import rule_url

    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.value,
        "summary": rule.summary,
        "enabled_by_default": rule.enabled_by_default,
        "fix_availability": rule.fix_availability.value,
        "url": rule_url(rule.code, rule.name),
    }


def _rule_table(rules) -> str:
    """One aligned line per rule: code, name, severity, summary (``(opt-in)`` when off by default)."""
    if not rules:
        return ""
    name_width = max(len(rule.name) for rule in rules)
    lines = []
    for rule in rules:
        summary = rule.summary + ("" if rule.enabled_by_default else " (opt-in)")
        lines.append(f"{rule.code}  {rule.name:<{name_width}}  {rule.severity.value:<7}  {summary}")
    return "\n".join(lines) + "\n"


def _run_version(args: argparse.Namespace) -> int:
    from . import __version__

    sys.stdout.write(f"{PROG} {__version__}\n")
    return EXIT_OK


def _run_server(args: argparse.Namespace) -> int:
    """Start the language server from the separate `dlx_lint_server` package, imported here only."""
    try:
        import dlx_lint_server
    except ImportError as error:
        missing = getattr(error, "name", None) or "dlx_lint_server"
        raise UsageError(f"the language server is not available (cannot import {missing}); install dlx-lint with its server") from None
    server_main = getattr(dlx_lint_server, "main", None)
    if server_main is None:
        raise UsageError("the language server is not available (dlx_lint_server has no main()); install dlx-lint with its server")
    result = server_main()
    return result if isinstance(result, int) else EXIT_OK
