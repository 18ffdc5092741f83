#!/usr/bin/env bash
# Times the AppHost as a user runs it: start (already built) to the relay healthy and the web client answering, then
# SIGNAL (INT = Ctrl+C, TERM, KILL) to the AppHost until every process of the run (AppHost, its DCP and all their
# descendants) is gone. Usage: bash eng/apphost-lifecycle.sh INT|TERM|KILL  (docs/benchmarks.md records its figures)
sig=$1
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s.%N)
setsid env --default-signal=INT dotnet run --project src/AppHost --no-build > "${TMPDIR:-/tmp}/apphost-lifecycle.log" 2>&1 &
runner=$!
descendants() { local p; for p in $(ps -eo pid=,ppid= | awk -v P="$1" '$2==P{print $1}'); do echo $p; descendants $p; done; }
for i in $(seq 1 900); do
  ah=$(pgrep -P $runner -f PgVideoChat.AppHost | head -1)
  [ -z "$ah" ] && ah=$(descendants $runner | xargs -r ps -o pid=,args= -p | awk '/PgVideoChat.AppHost/{print $1}' | head -1)
  dcp=$(pgrep -f "dcp start-apiserver --monitor $ah " | head -1)
  if [ -n "$dcp" ]; then
    rp=$(descendants $dcp | xargs -r ps -o pid=,args= -p | awk '/net10.0\/PgVideoChat.Relay$/{print $1}' | head -1)
    if [ -n "$rp" ]; then url=$(tr '\0' '\n' < /proc/$rp/environ | grep ^ASPNETCORE_URLS= | cut -d= -f2)
      wurl=$(descendants $dcp | xargs -r ps -o pid= -p | while read p; do tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q "^OTEL_SERVICE_NAME=webclient" && { tr '\0' '\n' < /proc/$p/environ | grep ^ASPNETCORE_URLS= | cut -d= -f2; break; }; done)
      if curl -sf "$url/health" >/dev/null 2>&1 && [ -n "$wurl" ] && curl -sf "${wurl%%;*}/" >/dev/null 2>&1; then break; fi; fi; fi
  sleep 0.2
done
up=$(date +%s.%N); echo "to healthy: $(echo "$up - $start" | bc) s"
sleep 2
pids="$ah $dcp $(descendants $dcp) $(descendants $ah)"
t0=$(date +%s.%N); kill -$sig $ah
for i in $(seq 1 600); do n=0; for p in $pids; do [ -d /proc/$p ] && n=$((n+1)); done; [ "$n" -eq 0 ] && break; sleep 0.1; done
echo "$sig: $(echo "$pids" | wc -w) processes; all gone after $(echo "$(date +%s.%N) - $t0" | bc) s (left: $n)"
kill $runner 2>/dev/null; wait 2>/dev/null
