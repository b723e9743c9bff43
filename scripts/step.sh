#!/usr/bin/env bash
# usage: step.sh NAME COMMAND [ARG...]
# Runs one step of `make setup`, saying on stderr when it starts, every 15 s that it is still running
# (pip installs TensorFlow for minutes with --quiet), and how long it took. Exits with COMMAND's status.
set -uo pipefail
name=${1:?usage: step.sh NAME COMMAND [ARG...]}
shift
start=$SECONDS
echo "$name…" >&2
# The ticker's sleep must not hold our stdout or stderr open: a reader would wait for it after we exit.
( while sleep "${STEP_HEARTBEAT_S:-15}" >/dev/null 2>&1; do echo "$name: still running ($((SECONDS - start)) s)" >&2; done ) >/dev/null &
ticker=$!
trap 'kill "$ticker" 2>/dev/null' EXIT
"$@"
status=$?
if [ "$status" -eq 0 ]; then
  echo "$name: done in $((SECONDS - start)) s" >&2
else
  echo "$name: failed after $((SECONDS - start)) s (exit status $status)" >&2
fi
exit "$status"
