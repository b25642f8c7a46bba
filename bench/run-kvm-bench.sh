#!/usr/bin/env bash
# The KVM model under the checker: time to the seed counterexample, and exhaustive runs of the
# fixed designs. Prints one line per run: universe, policy, threads, verdict, states, states/s,
# bytes/state, seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/NestedApic.Cli -c Release -v q -nologo >/dev/null
cli=(dotnet src/NestedApic.Cli/bin/Release/net10.0/NestedApic.Cli.dll)

row() { # universe policy threads
  "${cli[@]}" check "universes/$1.toml" --policy "$2" --threads "$3" --json > /tmp/nestedapic-bench.json || true
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
r = json.load(open("/tmp/nestedapic-bench.json"))
s = r["stats"]
print(f"{sys.argv[1]:<20} {sys.argv[2]:<22} {sys.argv[3]:>2} {r['verdict']:<9} {(r['property'] or '-'):<27} "
      f"{s['states']:>10} {s['states_per_second']:>10.0f} {s['bytes_per_state']:>6.1f} {s['seconds']:>8.2f}")
PY
}

printf '%-20s %-22s %2s %-9s %-27s %10s %10s %6s %8s\n' universe policy th verdict property states states/s B/state seconds
row seed linux-5.17 1
row seed linux-5.17 2
row seed linux-7.0 2
row vmx-apicv-updates linux-6.19 1
row vmx-apicv-updates linux-7.0 2
for t in 1 2; do row intel-wide linux-7.0 "$t"; done
for t in 1 2; do row intel-wide linux-6.19 "$t"; done
# The exhaustive intel-wide runs are not in `dotnet test` (tests/…/UniverseVerdictTests.cs); linux-7.2 too.
row intel-wide linux-7.2 2
# The rest of the vmcs01 ladder (issue 7): one universe per field.
row tpr-threshold-ppr linux-7.0 1
row tpr-threshold-ppr linux-7.2 1
row tpr-threshold-l2 linux-7.0 1
row apic-mode-tlb linux-7.0 1
row apic-access-page linux-7.0 2
row pml-dirty-logging linux-7.0 2
row activation-in-service linux-6.18 1
# AMD: the nested IPI universe under each -svm preset and the no-inhibit design, and the
# KVM_SET_NESTED_STATE universe under the newest preset.
for p in linux-5.18-svm linux-5.19-svm linux-7.0-svm; do for t in 1 2; do row amd-nested-ipi "$p" "$t"; done; done
row amd-nested-ipi no-nested-avic-inhibit 1
row amd-set-nested-state linux-7.0-svm 1
row amd-set-nested-state linux-5.18-svm 1
