#!/usr/bin/env bash
# Runs the hardware-layer benchmarks (VM-entry checks, virtual-interrupt evaluation) in Release
# with BenchmarkDotNet's short job and prints the summary tables.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run -c Release --project bench/NestedApic.Bench -- \
  --job short --filter '*VmEntryCheckBenchmarks*' '*VirtualInterruptBenchmarks*' \
  --artifacts bench/BenchmarkDotNet.Artifacts "$@"
for f in bench/BenchmarkDotNet.Artifacts/results/*Benchmarks-report-github.md; do
  [ -e "$f" ] && { echo "== $f"; cat "$f"; }
done
