#!/usr/bin/env bash
# The check step of action.yml (kept in a file so the tests can run it outside GitHub).
#
# Runs `dlx-lint check` writing a SARIF report, then, with DLX_LINT_ANNOTATE=true, again with
# `--output-format github` (answered from the result cache) so findings show as annotations in
# the log and the pull request. Records `exit-code` and `sarif-file` in $GITHUB_OUTPUT. Exits
# 0 for exit codes 0 and 1 (action.yml decides whether findings fail the job, after the SARIF
# upload), and with dlx-lint's status for an error (2: usage, configuration or path error).
#
# Environment: DLX_LINT_PYTHON (interpreter with dlx-lint installed, default python3),
# DLX_LINT_ARGS (paths and options, split on whitespace, default "."), DLX_LINT_SARIF
# (report path, default dlx-lint.sarif), DLX_LINT_ANNOTATE (true/false, default true).
set -uo pipefail

python="${DLX_LINT_PYTHON:-python3}"
sarif="${DLX_LINT_SARIF:-dlx-lint.sarif}"
output="${GITHUB_OUTPUT:-/dev/null}"
# Split on any whitespace, newlines included (a YAML block scalar), without glob expansion;
# `read -d ''` reads to the end and returns 1 there, which is expected.
read -r -d '' -a arguments <<< "${DLX_LINT_ARGS:-.}"
if [ "${#arguments[@]}" -eq 0 ]; then
  arguments=(.)
fi

"$python" -m dlx_lint check --output-format sarif --output-file "$sarif" "${arguments[@]}"
status=$?
echo "exit-code=$status" >> "$output"
echo "sarif-file=$sarif" >> "$output"
if [ "$status" -ge 2 ]; then
  echo "::error title=dlx-lint::dlx-lint could not run (exit status $status); see the message above"
  exit "$status"
fi
if [ "${DLX_LINT_ANNOTATE:-true}" = "true" ]; then
  "$python" -m dlx_lint check --output-format github --exit-zero "${arguments[@]}"
fi
echo "dlx-lint: exit status $status, SARIF report in $sarif"
exit 0
