#!/usr/bin/env bash
# Mutation testing (Stryker.NET, the local tool of .config/dotnet-tools.json) of the model
# checker (src/NestedApic/Checking/) and the property definitions, against the fast tests only:
# the engine tests, the random-graph oracle and the property-violation tests (filter in
# bench/stryker-config.json). One test process at a time: the machine is shared.
# Usage: bench/run-mutation.sh [extra dotnet-stryker options, e.g. -m "**/Checking/Checker.cs"]
# Prints Stryker's table and score; the reports land in tests/NestedApic.Tests/StrykerOutput/.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
cd tests/NestedApic.Tests
exec dotnet stryker -f ../../bench/stryker-config.json "$@"
