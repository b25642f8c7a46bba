#!/usr/bin/env bash
# Checks the classic models with SPIN and with NestedApic's engine (1 thread and all threads),
# fails if the state counts differ, and prints states/s and the ratios. SPIN runs in three modes,
# each with -DSAFETY -DNOREDUCE: depth-first (the default), breadth-first (-DBFS) and depth-first
# with 4-byte hash compaction (-DHC4); the ratios are taken against the fastest of the three per
# model. -DHC4 may lose states to hash collisions, so its count is shown but not required to
# agree. Sizes are chosen so that SPIN takes at least 5 seconds. Next to our N-thread/1-thread
# ratio, the machine's ceiling: N of our 1-thread runs at once. Work files go to bench/spin/out/
# (ignored by git). The machine's load is printed: figures from a loaded machine are not comparable.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v spin >/dev/null; then
  echo "installing spin"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq spin
  else sudo apt-get update -qq && sudo apt-get install -y -qq spin; fi
fi

threads=$(nproc)
out=bench/spin/out
mkdir -p "$out"
dotnet build -c Release bench/SpinComparison -v q -nologo >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
bin=bench/SpinComparison/bin/Release/net10.0/SpinComparison

# name | Promela file and spin defines | SpinComparison arguments
models=(
  "peterson|peterson.pml -DN=6|peterson 6"
  "philosophers|philosophers.pml -DN=13|philosophers 13"
  "abp|abp.pml -DC=24 -DM=127|abp 24 --modulus 127"
)

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
min1=""; min2=""; n=0
printf '%-13s %10s %10s %10s %10s %12s %12s %8s %8s %10s %10s\n' model states dfs/s bfs/s hc4/s "1-thread/s" "${threads}-thread/s" ratio1 ratio${threads} B/st-spin B/st-ours
for entry in "${models[@]}"; do
  IFS='|' read -r name spinargs ourargs <<<"$entry"
  read -r pml defines <<<"$spinargs"
  dir="$out/$name"; mkdir -p "$dir"
  ( cd "$dir" && spin $defines -a "../../$pml" >/dev/null ) || { echo "spin -a failed on $name"; exit 1; }
  declare -A rate=() count=() mem=() secs=()
  for mode in dfs bfs hc4; do
    case $mode in dfs) extra="" ;; bfs) extra="-DBFS" ;; hc4) extra="-DHC4" ;; esac
    ( cd "$dir" && gcc -w -O2 -DSAFETY -DNOREDUCE $extra -DMEMLIM=16000 -o "pan-$mode" pan.c &&
      "./pan-$mode" -m20000000 -w26 >"pan-$mode.txt" 2>&1 ) || { echo "SPIN ($mode) failed on $name"; cat "$dir/pan-$mode.txt" 2>/dev/null; exit 1; }
    grep -q "errors: 0" "$dir/pan-$mode.txt" || { echo "SPIN ($mode) found an error in $name"; cat "$dir/pan-$mode.txt"; exit 1; }
    count[$mode]=$(awk '/states, stored/ {print $1; exit}' "$dir/pan-$mode.txt")
    secs[$mode]=$(awk '/elapsed time/ {print $4; exit}' "$dir/pan-$mode.txt")
    mem[$mode]=$(awk '/actual memory usage for states/ {print $1; exit}' "$dir/pan-$mode.txt")
    rate[$mode]=$(awk -v s="${count[$mode]}" -v t="${secs[$mode]}" 'BEGIN { printf "%.0f", s / t }')
  done
  [ "${count[dfs]}" = "${count[bfs]}" ] || { echo "SPIN's DFS and BFS disagree on $name: ${count[dfs]} vs ${count[bfs]}" >&2; exit 1; }
  sstates=${count[dfs]}
  best=dfs
  for mode in bfs hc4; do (( rate[$mode] > rate[$best] )) && best=$mode; done
  one=$($bin $ourargs --threads 1)
  all=$($bin $ourargs --threads "$threads")
  echo "$one" >"$dir/ours-1.txt"; echo "$all" >"$dir/ours-$threads.txt"
  # The machine's ceiling for $threads threads in these minutes: $threads 1-thread runs at once,
  # their summed states/s over the 1-thread run's (on a VM it moves with the host's load).
  for i in $(seq "$threads"); do $bin $ourargs --threads 1 >"$dir/side-$i.txt" & done
  wait
  ceiling=$(for i in $(seq "$threads"); do field states_per_s "$(cat "$dir/side-$i.txt")"; done |
    awk -v b="$(field states_per_s "$one")" '{ sum += $1 } END { printf "%.2f", sum / b }')
  for line in "$one" "$all"; do
    if [ "$(field states "$line")" != "$sstates" ] || [ "$(field verdict "$line")" != holds ]; then
      echo "MISMATCH on $name: SPIN stored $sstates states, NestedApic: $line" >&2
      exit 1
    fi
  done
  read -r r1 r2 sbytes <<<"$(awk -v r="${rate[$best]}" -v a="$(field states_per_s "$one")" -v b="$(field states_per_s "$all")" \
      -v m="${mem[dfs]}" -v s="$sstates" 'BEGIN { printf "%.2f %.2f %.1f", a / r, b / r, m * 1048576 / s }')"
  printf '%-13s %10s %10s %10s %10s %12s %12s %8s %8s %10s %10s\n' "$name" "$sstates" "${rate[dfs]}" "${rate[bfs]}" "${rate[hc4]}" \
    "$(field states_per_s "$one")" "$(field states_per_s "$all")" "$r1" "$r2" "$sbytes" "$(field bytes_per_state "$all")"
  echo "  SPIN fastest: $best (${secs[$best]}s; dfs ${secs[dfs]}s, bfs ${secs[bfs]}s, hc4 ${secs[hc4]}s storing ${count[hc4]}); NestedApic $(field seconds "$one")s with 1 thread, $(field seconds "$all")s with $threads ($(awk -v a="$(field states_per_s "$all")" -v b="$(field states_per_s "$one")" 'BEGIN { printf "%.2f", a / b }')x; the machine's ceiling: ${ceiling}x, $threads 1-thread runs at once)"
  min1=$(awk -v a="$r1" -v m="$min1" 'BEGIN { print (m == "" || a < m) ? a : m }')
  min2=$(awk -v a="$r2" -v m="$min2" 'BEGIN { print (m == "" || a < m) ? a : m }')
  n=$((n + 1))
  unset rate count mem secs
done
echo "summary: $n models, counts agree, min ratio $min1 (1 thread), min ratio $min2 (all threads)"

# ---- begin: partial-order reduction next to SPIN's (issue 14; owned by the reduction work) ----
# SPIN again with its own partial-order reduction (-DSAFETY without -DNOREDUCE), next to our
# states. The classic models declare no footprints (Checking/Reduction), so our engine explores
# them in full with or without reduction; the column says so. Counts need not be equal.
printf '%-13s %12s %12s %14s\n' model "spin-por" "spin-full" "ours"
for entry in "${models[@]}"; do
  IFS='|' read -r name spinargs ourargs <<<"$entry"
  read -r pml defines <<<"$spinargs"
  dir="$out/$name-por"; mkdir -p "$dir"
  ( cd "$dir" && spin $defines -a "../../$pml" >/dev/null &&
    gcc -w -O2 -DSAFETY -DMEMLIM=16000 -o pan pan.c &&
    ./pan -m20000000 -w26 >pan.txt 2>&1 ) || { echo "SPIN (POR) failed on $name"; cat "$dir/pan.txt" 2>/dev/null; exit 1; }
  grep -q "errors: 0" "$dir/pan.txt" || { echo "SPIN (POR) found an error in $name"; cat "$dir/pan.txt"; exit 1; }
  por=$(awk '/states, stored/ {print $1; exit}' "$dir/pan.txt")
  full=$(awk '/states, stored/ {print $1; exit}' "$out/$name/pan-dfs.txt")
  ours=$(field states "$($bin $ourargs --threads "$threads")")
  printf '%-13s %12s %12s %14s\n' "$name" "$por" "$full" "$ours (full)"
done
# ---- end: partial-order reduction next to SPIN's ----
