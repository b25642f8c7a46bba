#!/usr/bin/env bash
# The HTML timeline in a real browser: renders `check --html` for the seed bug, loads it in
# headless Chromium (Debian's package, installed here if missing), and checks the DOM the page's
# script built: one lane per vCPU and level, one mark per trace step, the violating step
# highlighted and its changed fields shown. Saves a screenshot under tests/html/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/html/out
mkdir -p "$out"

if ! command -v chromium >/dev/null 2>&1; then
  echo "html-test: installing Debian's chromium" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

dotnet build src/NestedApic.Cli -c Release -v q -nologo >/dev/null
dotnet src/NestedApic.Cli/bin/Release/net10.0/NestedApic.Cli.dll check seed --policy linux-5.17 --html "$out/seed.html" >/dev/null

flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --allow-file-access-from-files)
url="file://$PWD/$out/seed.html"
chromium "${flags[@]}" --virtual-time-budget=2000 --dump-dom "$url" 2>/dev/null > "$out/seed.dom.html"
chromium "${flags[@]}" --window-size=1200,700 --screenshot="$PWD/$out/seed.png" "$url" >/dev/null 2>&1

python3 - "$out/seed.dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
def check(cond, what):
    if not cond:
        print(f"html-test: FAILED: {what}"); sys.exit(1)
    print(f"html-test: ok: {what}")
lanes = re.findall(r'<tr class="lane" data-lane="([^"]+)"', dom)
check(lanes == [f"vcpu{v} {l}" for v in range(2) for l in ("user", "L0", "L1", "L2")], f"8 lanes, vcpu0..1 x user/L0/L1/L2 (got {lanes})")
marks = re.findall(r'<span class="step( violation)?( selected)?"[^>]*data-step="(\d+)"', dom)
check(sorted(int(m[2]) for m in marks) == [1, 2, 3, 4], "4 step marks, one per trace step")
check([m[2] for m in marks if m[0]] == ["4"], "exactly the last step (4) is highlighted as the violation")
check("kvm-caused-vmentry-failure" in dom, "the verdict names the property")
check(re.search(r'<div id="details">4\. vcpu0/L0: vm-enter\n[^<]*vcpu0\.faults: - → BlamedL1', dom) is not None,
      "the violating step's changed fields are shown")
check('<tr class="lane" data-lane="vcpu0 L1"><th>vcpu0 L1</th><td class="cell"><span class="step"' in dom, "step 1 sits in vcpu0's L1 lane")
PY
test -s "$out/seed.png" && echo "html-test: ok: screenshot $out/seed.png"
echo "html-test: passed"
