#!/usr/bin/env bash
# The distributed checker against the local engine: the same universes on the local engine (one
# thread and all threads) and on Orleans clusters of 1, 2 and 3 silo processes on this machine
# (`check --cluster local:N`). Prints one markdown row per run: states/s (the search alone, not
# the silos' start-up), bytes sent between partitions per state, messages per level, and peak
# memory (the local engine's max RSS; each silo's peak working set).
# Usage: bench/run-cluster-bench.sh [UNIVERSE[:ARGS]...]   (ARGS: extra check options, commas for spaces)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release src/NestedApic.Cli >/dev/null
cli=(dotnet src/NestedApic.Cli/bin/Release/net10.0/NestedApic.Cli.dll)
runs=("$@")
[ ${#runs[@]} -eq 0 ] && runs=(nested-posted-interrupts vmx-apicv-updates "intel-wide:--depth,8")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" "$2" | head -1; }

echo "| universe | engine | states | states/s | bytes sent/state | messages/level | peak memory |"
echo "|---|---|---:|---:|---:|---:|---|"
for run in "${runs[@]}"; do
  u=${run%%:*}; extra=(); [[ $run == *:* ]] && IFS=',' read -r -a extra <<< "${run#*:}"
  for threads in 1 $(nproc); do
    /usr/bin/time -f "%M" -o "$out/rss" "${cli[@]}" check "$u" "${extra[@]}" --threads "$threads" --json > "$out/r.json" || true
    echo "| $u ${extra[*]} | local, $threads thread(s) | $(field states "$out/r.json") | $(printf %.0f "$(field states_per_second "$out/r.json")") | - | - | $(( $(tail -1 "$out/rss") / 1024 )) MiB |"
  done
  for n in 1 2 3; do
    "${cli[@]}" check "$u" "${extra[@]}" --cluster "local:$n" --json > "$out/r.json" 2> "$out/err" || true
    line=$(grep '^cluster: [0-9]* silos' "$out/err" || echo "cluster: failed: $(tail -1 "$out/err")")
    bps=$(sed -n 's/.*(\([0-9.]*\) B\/state).*/\1/p' <<< "$line")
    mpl=$(sed -n 's/.*messages (\([0-9.]*\)\/level).*/\1/p' <<< "$line")
    mem=$(sed -n 's/.*peak working set per silo: //p' <<< "$line")
    echo "| $u ${extra[*]} | local:$n | $(field states "$out/r.json") | $(printf %.0f "$(field states_per_second "$out/r.json")") | $bps | $mpl | $mem |"
  done
done
