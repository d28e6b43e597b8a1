#!/usr/bin/env bash
# The test suite in several pytest processes. In one long-lived process a subprocess started late
# in the suite segfaulted pytest itself, reproducibly (after in-process NNCF/OpenVINO work, torch
# bf16 kernels and hundreds of tests); each group below passes alone. The data-to-exp folders and
# tests/inference run as one process each (each verified so); the rest one file per process.
# Arguments go to every pytest call (e.g. -m "not slow"). Exit status: the first failure's.
set -u
shopt -s nullglob
cd "$(dirname "$0")/.."
grouped=("tests/ablation tests/core tests/data tests/evaluators tests/exp" "tests/inference")
per_file=()
for entry in tests/*/ tests/test_*.py; do
  entry=${entry%/}
  case "${entry##*/}" in __pycache__) continue ;; esac
  case " ${grouped[*]} " in *" $entry "*) continue ;; esac
  if [ -d "$entry" ]; then
    for file in "$entry"/test_*.py; do per_file+=("$file"); done
  else
    per_file+=("$entry")
  fi
done
status=0
for target in "${grouped[@]}" "${per_file[@]}"; do
  # shellcheck disable=SC2086  # a group is a list of paths
  python -m pytest -q "$@" $target
  code=$?
  [ "$code" -eq 5 ] && code=0  # every test of this file deselected (e.g. -m "not slow")
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
  fi
done
exit "$status"
