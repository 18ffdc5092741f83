#!/usr/bin/env bash
# Runs every PgVideoChat test on this machine. Installs what is missing first (Chromium for the browser tests,
# PostgreSQL server binaries), builds once, then runs the test projects one after another: they start real
# Postgres servers, relays and browsers, which would fight for two cores if run in parallel.
#
#   bash eng/test.sh                 # everything
#   bash eng/test.sh Relay.Tests     # one or more test projects by folder name (WebClient: the JavaScript tests)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source eng/prerequisites.sh

pgvc_ensure_postgres
pgvc_ensure_chromium
pgvc_ensure_node
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build PgVideoChat.sln -c Debug -warnaserror -nologo -clp:ErrorsOnly

results="artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

if [ "$#" -gt 0 ]; then projects=("$@"); else
  # Unit tests first, then the tests on real Postgres and relays, the browser suite last.
  projects=()
  for dir in tests/*/; do
    name=$(basename "$dir")
    if [ -f "$dir/$name.csproj" ] && grep -q '<IsTestProject>true' "$dir/$name.csproj"; then projects+=("$name"); fi
  done
  mapfile -t projects < <(printf '%s\n' "${projects[@]}" | awk '{print (/E2E/ ? 2 : /UnitTests/ ? 0 : 1) "\t" $0}' | sort | cut -f2)
fi

status=0
if [ "$#" -eq 0 ] || [[ " $* " == *" WebClient "* ]]; then
  # The web client's pure modules (protocol, call state), in Node's own test runner.
  echo "=== WebClient (node --test)"
  node --test src/WebClient/tests/*.test.js || status=1
fi

for project in "${projects[@]}"; do
  [ "$project" != WebClient ] || continue
  echo "=== $project"
  dotnet test "tests/$project" --no-build -c Debug --nologo \
    --logger "trx;LogFileName=$project.trx" --results-directory "$results" \
    --logger "console;verbosity=normal" || status=1
done

# One closing line over every project, counted from the TRX files.
python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    if c is None: continue
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    skipped += int(c.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
