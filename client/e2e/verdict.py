"""Judges the two e2e scenarios written by client/e2e/run-e2e.sh; writes OUT/summary.json.

usage: python3 client/e2e/verdict.py OUT_DIR [SCENARIO]   (with SCENARIO: judge only that one,
       print its problems, write nothing)

positive: every GUI check and every API check passed, the Quick Fix menu offered the rule's
          fix exactly when the API saw the server offer one, and no dlx-lint error was shown.
negative: (the control; dlx-lint.interpreter has no dlx-lint) the diagnostic checks failed in
          both halves, the server state is "error" (API and language status item), and exactly
          one notification said that dlx-lint is not installed and how to install it (no
          error loop).
Exit status 0 when both hold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return {"pass": False, "error": f"{path.name}: {error}", "checks": {}}


def failed(checks: dict) -> list[str]:
    return sorted(name for name, check in checks.items() if not check.get("pass"))


def judge_positive(gui: dict, api: dict) -> list[str]:
    problems = []
    if not gui.get("pass"):
        problems.append(f"GUI checks failed: {failed(gui.get('checks', {})) or gui.get('error')}")
    if not api.get("pass"):
        problems.append(f"API checks failed: {failed(api.get('checks', {})) or api.get('error')}")
    if bool(gui.get("fix_in_menu")) != bool(api.get("fix_offered")):
        problems.append(f"Quick Fix menu fix={gui.get('fix_in_menu')} but the API saw fix={api.get('fix_offered')}")
    errors = [m for m in gui.get("notifications", []) if "dlx-lint" in m]
    if errors or api.get("shown_problems"):
        problems.append(f"unexpected dlx-lint notifications: {errors or api.get('shown_problems')}")
    return problems


def judge_negative(gui: dict, api: dict) -> list[str]:
    problems = []
    if gui.get("pass") or api.get("pass"):
        problems.append("the control PASSED: the checks do not depend on the server")
    if api.get("checks", {}).get("diagnostic", {}).get("pass", True):
        problems.append("the control's API 'diagnostic' check did not fail")
    if gui.get("checks", {}).get("problems_panel", {}).get("pass", True):
        problems.append("the control's GUI 'problems_panel' check did not fail")
    if api.get("final_state") != "error":
        problems.append(f"server state is {api.get('final_state')!r}, not 'error'")
    if "dlx-lint: error" not in (gui.get("language_status") or ""):
        problems.append(f"the language status item shows {gui.get('language_status')!r}, not 'dlx-lint: error'")
    shown = api.get("shown_problems", [])
    if len(shown) != 1 or "not installed" not in shown[0] or "pip install dlx-lint" not in shown[0]:
        problems.append(f"expected one 'not installed ... pip install dlx-lint' notification, got {shown}")
    seen = [m for m in gui.get("notifications", []) if "not installed" in m]
    if len(seen) != 1:
        problems.append(f"the workbench showed {len(seen)} 'not installed' notifications: {gui.get('notifications')}")
    return problems


JUDGES = {"positive": judge_positive, "negative": judge_negative}


def main() -> int:
    out = Path(sys.argv[1])
    if len(sys.argv) > 2:
        name = sys.argv[2]
        problems = JUDGES[name](load(out / name / "gui.json"), load(out / name / "api.json"))
        print("\n".join(problems) or f"{name}: ok")
        return 1 if problems else 0
    summary = {}
    for name, judge in JUDGES.items():
        gui = load(out / name / "gui.json")
        api = load(out / name / "api.json")
        problems = judge(gui, api)
        summary[name] = {
            "ok": not problems,
            "attempts": 2 if (out / f"{name}-attempt-1").exists() else 1,
            "problems": problems,
            "gui_checks": {k: v.get("pass") for k, v in gui.get("checks", {}).items()},
            "api_checks": {k: v.get("pass") for k, v in api.get("checks", {}).items()},
            "fix_offered": api.get("fix_offered"),
            "notifications": gui.get("notifications"),
            "language_status": gui.get("language_status"),
            "shown_problems": api.get("shown_problems"),
            "api_elapsed_ms": api.get("elapsed_ms"),
        }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    ok = all(s["ok"] for s in summary.values())
    print(f"e2e verdict: positive {'ok' if summary['positive']['ok'] else 'FAILED'}, "
          f"negative control {'failed as it must' if summary['negative']['ok'] else 'WRONG'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
