#!/usr/bin/env bash
# Runs the given molecule scenarios, each even when an earlier one failed, keeps each one's
# output in a log, and ends with what failed: CI keeps only the end of a long output, where
# molecule's own recap names the failed step but not the failed test.
set -uo pipefail
logs=${TRADIA_MOLECULE_LOGS:-build/molecule}
mkdir -p "$logs"
failed=()
summary=()
for scenario in "$@"; do
  start=$(date +%s)
  if molecule test -s "$scenario" 2>&1 | tee "$logs/$scenario.log"; then
    result=passed
  else
    result=FAILED
    failed+=("$scenario")
  fi
  summary+=("molecule $scenario: $result in $(( $(date +%s) - start )) s")
done
echo
printf '%s\n' "${summary[@]}"
for scenario in "${failed[@]}"; do
  echo "--- $scenario: failed tests and errors ($logs/$scenario.log) ---"
  # Molecule draws a frame in colour around the output: strip both before matching.
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *[│└┌] *//' "$logs/$scenario.log" \
    | grep -E '^(FAILED|ERROR) [A-Za-z0-9_/]+\.py|^E  |fatal: \[|failed=[1-9]|Traceback' | tail -n 60
done
[ ${#failed[@]} -eq 0 ]
