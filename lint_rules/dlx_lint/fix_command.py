"""``dlx-lint check --fix`` / ``--diff``: fix files, report what remains, summarise (ruff's
wording and exit codes).

- ``--fix`` writes the fixed files and prints the remaining diagnostics; exit status 0 when
  nothing remains, 1 otherwise (also when a file could not be written).
- ``--diff`` writes nothing and prints a unified diff of what ``--fix`` would change; exit
  status 1 when there is something to fix.
- ``--unsafe-fixes`` also applies unsafe fixes; ``--show-fixes`` lists the applied fixes per
  file and rule.
- Standard input (``-``): ``--fix`` prints the fixed source on standard output and the remaining
  diagnostics on standard error.
"""

from __future__ import annotations

import collections
import sys
from typing import Sequence

from .diagnostics import Applicability, Diagnostic


def run_fix(args, resolver, use_stdin: bool) -> int:
    """Run ``check`` with ``--fix`` or ``--diff``; returns the exit status."""
    from .fixes.files import fix_data, fix_files
    from .runner import discover

    write = not args.diff
    if use_stdin:
        data = sys.stdin.buffer.read()
        path = args.stdin_filename or "-"
        settings = resolver.for_file(args.stdin_filename) if args.stdin_filename else resolver.default()
        outcome = fix_data(path, data, settings, unsafe=args.unsafe_fixes, want_diff=args.diff)
        if args.diff:
            sys.stdout.write(outcome.diff)
            _write_summary(sys.stderr, [outcome], args, diff=True)
            return 1 if outcome.changed else 0
        sys.stdout.buffer.write(outcome.new_data or b"")
        sys.stdout.flush()
        _report(sys.stderr, [outcome], args)
        return _exit_status([outcome], args)
    tasks = list(discover(args.paths or ["."], resolver))
    outcomes = fix_files(tasks, unsafe=args.unsafe_fixes, write=write, want_diff=args.diff, jobs=args.jobs)
    for outcome in outcomes:
        if outcome.problem is not None:
            sys.stderr.write(f"dlx-lint: error: {outcome.path}: {outcome.problem}\n")
    if args.diff:
        sys.stdout.write("".join(o.diff for o in sorted(outcomes, key=lambda o: o.path)))
        sys.stdout.flush()
        _write_summary(sys.stderr, outcomes, args, diff=True)
        return 1 if any(o.changed for o in outcomes) else 0
    _report(sys.stdout, outcomes, args)
    return _exit_status(outcomes, args)


def _exit_status(outcomes, args) -> int:
    if args.exit_zero:
        return 0
    remaining = any(o.diagnostics for o in outcomes)
    failed = any(o.problem is not None for o in outcomes)
    return 1 if remaining or failed else 0


def _report(out, outcomes, args) -> None:
    from .output import get_format

    diagnostics = sorted((d for o in outcomes for d in o.diagnostics), key=Diagnostic.sort_key)
    renderer = get_format(args.output_format)
    out.write(renderer.render(diagnostics))
    if renderer.SUMMARY and not args.quiet:
        _write_summary(out, outcomes, args, diff=False)
    out.flush()


def _write_summary(out, outcomes, args, *, diff: bool) -> None:
    from .engine import display_path

    fixed = sum(len(o.applied) for o in outcomes)
    if args.show_fixes and fixed:
        verb = "Would fix" if diff else "Fixed"
        out.write(f"{verb} {fixed} error{'s' if fixed != 1 else ''}:\n")
        names = _rule_names()
        for outcome in sorted(outcomes, key=lambda o: o.path):
            if not outcome.applied:
                continue
            out.write(f"- {display_path(outcome.path)}:\n")
            for code, count in sorted(collections.Counter(a.code for a in outcome.applied).items()):
                out.write(f"    {count} × {code} ({names.get(code, '')})\n")
        out.write("\n")
    remaining = sum(len(o.diagnostics) for o in outcomes)
    if diff:
        if fixed:
            out.write(f"Would fix {fixed} error{'s' if fixed != 1 else ''}.\n")
        else:
            out.write("No errors would be fixed.\n")
        return
    total = fixed + remaining
    if total == 0:
        out.write("All checks passed!\n")
        return
    out.write(f"Found {total} error{'s' if total != 1 else ''} ({fixed} fixed, {remaining} remaining).\n")
    hint = fixable_hint([d for o in outcomes for d in o.diagnostics], unsafe=args.unsafe_fixes, fixing=True)
    if hint:
        out.write(hint + "\n")


def _rule_names() -> dict[str, str]:
    from .registry import all_rules

    return {rule.code: rule.name for rule in all_rules()} | {"DLX999": "internal-error"}


def fixable_hint(diagnostics: Sequence[Diagnostic], *, unsafe: bool, fixing: bool = False) -> str:
    """ruff's line about fixes: ``[*] N fixable with the `--fix` option (M hidden fixes can
    be enabled with the `--unsafe-fixes` option).``, or ``No fixes available (...)``, or ""."""
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is Applicability.SAFE)
    hidden = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is Applicability.UNSAFE)
    if unsafe:
        safe, hidden = safe + hidden, 0
    if fixing:
        # After --fix, what is left has no applicable fix (or waited on a conflict): only hint
        # at the unsafe ones.
        safe = 0
    hidden_text = ""
    if hidden:
        hidden_text = f"{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option"
    if safe:
        line = f"[*] {safe} fixable with the `--fix` option"
        return line + (f" ({hidden_text})." if hidden_text else ".")
    if hidden_text:
        return f"No fixes available ({hidden_text})."
    return ""
