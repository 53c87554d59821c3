#!/usr/bin/env bash
# The fan-out benchmark: Steelyard vs the transport floor vs stock java-control-plane, one after
# the other on this machine, same client harness. Writes results/<date>.json and .md.
#   bench/run.sh                   # everything (about 10-15 min on 2 cores)
#   N1=200 N2=0 WARMUP=8 bench/run.sh   # quick smoke run
# Knobs (env): N1 N2 APPS ENDPOINTS GRPC_SHARE WARMUP WEIGHT_REPS WEIGHT_REPS2 CHURN_REPS STORM_REPS
#              SERVERS ("floor stock steelyard") SERVER_OPTS CLIENT_OPTS JFR=1 SKIP_BUILD=1
set -euo pipefail
cd "$(dirname "$0")"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

N1=${N1:-1000} N2=${N2:-5000} APPS=${APPS:-50} ENDPOINTS=${ENDPOINTS:-4}
GRPC_SHARE=${GRPC_SHARE:-0.5}
WEIGHT_REPS=${WEIGHT_REPS:-100} WEIGHT_REPS2=${WEIGHT_REPS2:-10}
CHURN_REPS=${CHURN_REPS:-100} STORM_REPS=${STORM_REPS:-3}
# Unreported weight and endpoint changes before measuring: with 8, JIT compilation was most of
# the server CPU counted per push (results/2026-11-26T2045 and earlier).
WARMUP=${WARMUP:-80}
SERVERS=${SERVERS:-"floor stock steelyard"}
SERVER_OPTS=${SERVER_OPTS:-"-Xms2g -Xmx2g -XX:+UseG1GC"}
CLIENT_OPTS=${CLIENT_OPTS:-"-Xms3g -Xmx3g -XX:+UseG1GC"}
STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%M)}

# Offline when the local repository has everything, as it does after one build; online
# otherwise (a fresh machine), where -o fails for want of the plugins and dependencies.
build() {
  local log
  log="$(mktemp)"
  if mvn -B -q -o -Dstyle.color=never "$@" >"$log" 2>&1; then
    rm -f "$log"
    return
  fi
  if ! grep -q "offline mode" "$log"; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  echo "bench: the local Maven repository lacks artifacts; building online (mvn $*)" >&2
  mvn -B -q -Dstyle.color=never "$@"
}
if [[ -z "${SKIP_BUILD:-}" ]]; then
  (cd .. && build install -DskipTests)
  build package
fi
JAR=target/steelyard-bench.jar
mkdir -p results target/raw
XDS=18400 CTL=18401 ADMIN=18402

for server in $SERVERS; do
  jfr=""
  if [[ -n "${JFR:-}" ]]; then
    jfr="-XX:StartFlightRecording=filename=target/raw/$server.jfr,settings=profile"
  fi
  # shellcheck disable=SC2086
  java $SERVER_OPTS $jfr -cp "$JAR" dev.steelyard.bench.BenchServer \
    "$server" $XDS $CTL $ADMIN "$APPS" "$ENDPOINTS" > "target/raw/$server.server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q READY "target/raw/$server.server.log" && break
    sleep 0.2
  done
  admin=0
  [[ "$server" == steelyard ]] && admin=$ADMIN
  # shellcheck disable=SC2086
  java $CLIENT_OPTS -Dbench.n1="$N1" -Dbench.n2="$N2" -Dbench.grpcShare="$GRPC_SHARE" \
    -Dbench.weightReps="$WEIGHT_REPS" -Dbench.weightReps2="$WEIGHT_REPS2" \
    -Dbench.churnReps="$CHURN_REPS" -Dbench.stormReps="$STORM_REPS" -Dbench.warmup="$WARMUP" \
    -cp "$JAR" dev.steelyard.bench.Harness "$server" $XDS $CTL $admin "$APPS" \
    "target/raw/$server.json" 2>&1 | tee "target/raw/$server.client.log" | grep -v "^\s*at " || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done

python3 report.py --stamp "$STAMP" --server-opts "$SERVER_OPTS" --client-opts "$CLIENT_OPTS" \
  --n1 "$N1" --n2 "$N2" --warmup "$WARMUP" --apps "$APPS" --endpoints "$ENDPOINTS" --grpc-share "$GRPC_SHARE" \
  --out results target/raw/{floor,stock,steelyard}.json
