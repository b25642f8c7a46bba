#!/usr/bin/env bash
# What this machine allows, next to the engine's figures (bench/README.md, issue 13): the cost of a
# page fault, the latency of a random load (alone, and eight overlapping as the engine's prefetched
# batches do), and whether two vCPUs run two copies of a pure-CPU loop and of each chase as fast
# as one (a VM's host may not give it two cores' worth). One copy alone is measured once a pair:
# on a VM, a single figure moves by a third from one minute to the next; run several rounds.
# Builds bench/machine/probe.c with gcc into a temporary directory. Usage: bench/run-machine-probe.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
command -v gcc >/dev/null || { echo "needs gcc (apt-get install gcc) to build bench/machine/probe.c" >&2; exit 2; }
tmp=$(mktemp -d /tmp/machine-probe.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/probe" bench/machine/probe.c
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
"$tmp/probe" fault 256
for mib in 32 256; do "$tmp/probe" chase "$mib"; "$tmp/probe" chase8 "$mib"; done
# NAME ARGS: one copy, then two at once; the ratio is what two copies do over one.
pair() {
  local one two
  one=$("$tmp/probe" "$@" | grep -oE '[0-9.]+ (s|ns a load)' | cut -d' ' -f1)
  two=$( { "$tmp/probe" "$@" & "$tmp/probe" "$@" & wait; } | grep -oE '[0-9.]+ (s|ns a load)' | cut -d' ' -f1 | tr '\n' ' ')
  awk -v n="$*" -v o="$one" -v t="$two" 'BEGIN { split(t, a, " ");
    printf "%-10s one alone %s, two at once %s and %s: throughput %.2fx one\n", n, o, a[1], a[2], o / a[1] + o / a[2] }'
}
for r in $(seq "$rounds"); do
  pair compute
  pair chase 256
  pair chase8 256
done
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
