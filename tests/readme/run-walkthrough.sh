#!/usr/bin/env bash
# Runs the README's walkthrough as a user would: pack and install the tool into a private tool
# path, then every command of the walkthrough block, failing on the first that fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet pack "$root/src/NestedApic.Cli" -c Release -o "$work/artifacts" -v q -nologo >/dev/null
dotnet tool install --tool-path "$work/tools" --add-source "$work/artifacts" NestedApic.Tool >/dev/null
export PATH="$work/tools:$PATH"
command -v nestedapic >/dev/null || { echo "walkthrough: the tool did not install a nestedapic command" >&2; exit 1; }

# The commands between ```sh and ``` after the walkthrough marker.
block="$(awk '/<!-- walkthrough/{f=1} f&&/^```sh/{g=1;next} g&&/^```/{exit} g' "$root/README.md")"
[ -n "$block" ] || { echo "walkthrough: no command block found in README.md" >&2; exit 1; }
cd "$work"
set -x
eval "$block" > walkthrough.log
set +x
for f in seed-5.17.html bug2.scn seed-7.0.json; do
  [ -s "$f" ] || { echo "walkthrough: $f was not written" >&2; exit 1; }
done
grep -q '"verdict": "holds"' seed-7.0.json || { echo "walkthrough: linux-7.0 does not hold" >&2; exit 1; }
echo "walkthrough: passed"
