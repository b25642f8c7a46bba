#!/usr/bin/env bash
# Mutation testing (Stryker.NET, the local tool of .config/dotnet-tools.json) of the model
# checker (src/NestedApic/Checking/ and Checking/Reduction/) and the property definitions,
# against the fast tests only: the engine tests, the random-graph oracle, the reduction engine
# tests and the property-violation and property-clause tests (filter in bench/stryker-config.json). Two test
# processes at a time (the 2-core machine); every mutant reruns the random-graph oracle, so the
# script runs a third of each seed's cases (ORACLE_SHARE; `dotnet test` runs them all).
#
# Usage: bench/run-mutation.sh [extra dotnet-stryker options, e.g. -m "**/Checking/Checker.cs"]
#        bench/run-mutation.sh --groups [group ...]
#   --groups runs Stryker once per group of files below (all groups when none is named), so that
#   each group's scores are complete even when the whole run would not fit in the time at hand;
#   each run also writes Stryker's trace log (-L), which names every mutant's result as it comes,
#   so a run cut short still tells what it tested.
# Stryker builds the test project in place and overwrites its bin/ with the mutated assembly:
# run it on a copy (git worktree or archive) if you keep building in the same tree meanwhile.
# Prints Stryker's table and score; the reports land in tests/NestedApic.Tests/StrykerOutput/.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
export ORACLE_SHARE=${ORACLE_SHARE:-0.34}
cd tests/NestedApic.Tests
config=../../bench/stryker-config.json

declare -A groups=(
  [checker]='**/Checking/Checker*.cs'
  [store]='**/Checking/StateStore.cs **/Checking/InternTable.cs **/Checking/NodeTable.cs'
  [reduction]='**/Checking/Reduction/*.cs'
  [properties]='**/Hypervisor/Properties.cs **/Hypervisor/Vmx/VmxModel.Properties.cs **/Hypervisor/Svm/SvmModel.Properties.cs'
  # every other file of Checking/ (RootSet, OwnerTable, WorkerPool, StateLayout, Frontier, ...)
  [rest]='**/Checking/*.cs !**/Checking/Checker*.cs !**/Checking/StateStore.cs !**/Checking/InternTable.cs !**/Checking/NodeTable.cs'
)
order=(checker store reduction properties rest)

if [[ "${1:-}" != --groups ]]; then
  exec dotnet stryker -f "$config" "$@"
fi
shift
(($#)) && order=("$@")
set -f # the patterns are Stryker's globs, not the shell's
for g in "${order[@]}"; do
  [[ -n "${groups[$g]:-}" ]] || { echo "unknown group $g (known: ${!groups[*]})" >&2; exit 2; }
  args=()
  for p in ${groups[$g]}; do args+=(-m "$p"); done
  echo "=== group $g: ${groups[$g]} ($(date -u +%FT%TZ))"
  dotnet stryker -f "$config" -L "${args[@]}"
  echo "=== group $g done ($(date -u +%FT%TZ))"
done
