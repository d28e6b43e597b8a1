#!/usr/bin/env bash
# The test suite in three pytest processes, one per group of folders: in one long-lived process
# the first subprocess started after about 780 tests (torch, OpenVINO, ONNX Runtime and NNCF all
# loaded by then) segfaulted pytest itself, reproducibly, while each group alone passes.
# Arguments go to every pytest call (e.g. -m "not slow"). Exit status: the first failing group's.
set -u
cd "$(dirname "$0")/.."
groups=(
  "tests/ablation tests/core tests/data tests/evaluators tests/exp"
  "tests/inference"
  "tests/models tests/utils tests/tools tests/test_hubconf.py tests/test_import_layers.py tests/test_official_api.py tests/test_readme_commands.py"
)
# a test folder or file that no group names would never run: refuse instead
for entry in tests/*/ tests/test_*.py; do
  entry=${entry%/}
  [ "${entry##*/}" = "__pycache__" ] && continue
  case " ${groups[*]} " in
    *" $entry "*) ;;
    *) echo "scripts/run_tests.sh: $entry is in no test group; add it to one" >&2; exit 2 ;;
  esac
done
status=0
for group in "${groups[@]}"; do
  # shellcheck disable=SC2086  # the group is a list of paths
  python -m pytest -q "$@" $group
  code=$?
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
  fi
done
exit "$status"
