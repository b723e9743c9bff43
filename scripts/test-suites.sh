#!/usr/bin/env bash
# usage: test-suites.sh PYTHON
# make test's two suites, side by side: vitest alone leaves part of a core idle and pytest uses under one
# (its tests wait on sockets and timeouts), so pytest fills it. pytest's output goes to a file, printed
# once vitest ends, so the two logs do not interleave. A failed vitest run's failure report is printed
# again at the very end: CI keeps only the tail of a run, which is otherwise pytest's log. Exits non-zero
# if either suite fails. Ctrl-C or a SIGTERM stops both suites at once and leaves no log behind.
set -u
python=${1:?usage: test-suites.sh PYTHON}
pytest_log=$(mktemp) && vitest_log=$(mktemp) || exit 1
cleanup() { rm -f "$pytest_log" "$vitest_log"; }

"$python" -m pytest -q python/tests >"$pytest_log" 2>&1 &
pytest=$!
# tee, so vitest's report shows as it runs and is kept for the end.
node_modules/.bin/vitest run > >(tee "$vitest_log") 2>&1 &
vitest=$!
trap 'kill "$vitest" "$pytest" 2>/dev/null; wait; cleanup; exit 130' INT TERM HUP

wait "$vitest"
vitest_status=$?
echo "== pytest -q python/tests (ran beside vitest) =="
wait "$pytest"
pytest_status=$?
trap - INT TERM HUP
wait # for tee to write the end of vitest's report
cat "$pytest_log"
if [ "$vitest_status" != 0 ]; then
  echo "== vitest failed (exit status $vitest_status): its failures again, from the report above =="
  # vitest's closing sections (failed files, failed tests, unhandled errors) each start with a rule of
  # ⎯ around their title, colours or not; a run that ended before them shows its last lines instead.
  first=$(sed 's/\x1b\[[0-9;]*m//g' "$vitest_log" | grep -n -m1 -E '⎯.*(Failed (Suites|Tests)|Unhandled (Error|Rejection))' | cut -d: -f1)
  if [ -n "$first" ]; then tail -n "+$first" "$vitest_log"; else tail -n 40 "$vitest_log"; fi
fi
cleanup
[ "$vitest_status" = 0 ] && [ "$pytest_status" = 0 ]
