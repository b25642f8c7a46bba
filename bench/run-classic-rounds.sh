#!/usr/bin/env bash
# A classic model (bench/SpinComparison) in rounds: each round runs 1 thread, all threads, and the
# machine's ceiling (that many 1-thread runs at once), and prints the ratio and the ceiling of
# those minutes; with --base REV, each round first runs REV's build the same way (1 and all
# threads), alternating, so that before and after share the machine's minutes. Medians at the end.
# No SPIN: bench/run-spin-comparison.sh checks the counts against it.
# Usage: bench/run-classic-rounds.sh MODEL SIZE [--modulus M] [--rounds N] [--base REV]
#   e.g. bench/run-classic-rounds.sh philosophers 13 --rounds 5 --base 931cb2b
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 MODEL SIZE [--modulus M] [--rounds N] [--base REV]" >&2; exit 2; }
args=("$1" "$2"); shift 2
rounds=3; base=""
while [ $# -gt 0 ]; do
  case $1 in
    --modulus) args+=(--modulus "$2"); shift ;;
    --rounds) rounds=$2; shift ;;
    --base) base=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
threads=$(nproc)
tmp=$(mktemp -d /tmp/classic-rounds.XXXXXX)
cleanup() { [ -z "$base" ] || git worktree remove --force "$tmp/base-src" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
dotnet build bench/SpinComparison -c Release -o "$tmp/new" -v q -nologo >"$tmp/new.log" 2>&1 || { cat "$tmp/new.log"; exit 1; }
if [ -n "$base" ]; then
  git worktree add -f --detach "$tmp/base-src" "$base" >/dev/null 2>&1
  dotnet build "$tmp/base-src/bench/SpinComparison" -c Release -o "$tmp/base" -v q -nologo >"$tmp/base.log" 2>&1 || { cat "$tmp/base.log"; exit 1; }
fi
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
echo "${args[*]}: $rounds rounds on $threads cores, $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')${base:+ against $base}; load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
: >"$tmp/rows"
for r in $(seq "$rounds"); do
  line=""
  for build in ${base:+base} new; do
    one=$("$tmp/$build/SpinComparison" "${args[@]}" --threads 1)
    all=$("$tmp/$build/SpinComparison" "${args[@]}" --threads "$threads")
    line+=" $build $(field seconds "$one") $(field seconds "$all") $(field bytes_per_state "$one") $(field bytes_per_state "$all")"
  done
  for i in $(seq "$threads"); do "$tmp/new/SpinComparison" "${args[@]}" --threads 1 >"$tmp/side$i" & done
  wait
  ceiling=$(for i in $(seq "$threads"); do field seconds "$(cat "$tmp/side$i")"; done | awk -v one="$(awk '{print $(NF-3)}' <<<"$line")" '{ sum += one / $1 } END { printf "%.2f", sum }')
  echo "$line $ceiling" >>"$tmp/rows"
  awk -v t="$threads" '{ n = NF; printf "  round:"; for (i = 1; i < n; i += 5) printf " %s 1 thread %.3f s, %d threads %.3f s (%.2fx);", $i, $(i+1), t, $(i+2), $(i+1) / $(i+2); printf " ceiling %.2fx\n", $n }' <<<"$line $ceiling"
done
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for build in ${base:+base} new; do
  col=$(awk -v b="$build" '{ for (i = 1; i <= NF; i++) if ($i == b) { print i; exit } }' "$tmp/rows")
  s1=$(awk -v c="$col" '{ print $(c+1) }' "$tmp/rows" | median); sN=$(awk -v c="$col" '{ print $(c+2) }' "$tmp/rows" | median)
  b1=$(awk -v c="$col" '{ print $(c+3) }' "$tmp/rows" | median); bN=$(awk -v c="$col" '{ print $(c+4) }' "$tmp/rows" | median)
  r=$(awk -v c="$col" '{ print $(c+1) / $(c+2) }' "$tmp/rows" | median | xargs printf "%.2f")
  echo "$build medians: 1 thread $s1 s ($b1 B/state), $threads threads $sN s ($bN B/state); per round $threads threads / 1 thread: ${r}x"
done
c=$(awk '{ print $NF }' "$tmp/rows" | median); e=$(awk '{ print ($(NF-4) / $(NF-3)) / $NF }' "$tmp/rows" | median)
echo "new: median ceiling ${c}x; $threads threads reach $(awk -v e="$e" 'BEGIN { printf "%.0f", e * 100 }')% of each round's ceiling (median)"
