#!/usr/bin/env bash
# The fan-out benchmark: Steelyard vs the transport floor vs stock java-control-plane on this
# machine, same client harness, in interleaved rounds, for each fleet size. Writes
# results/<stamp>.json and .md.
#   bench/run.sh                   # the standard run: fleets of 50 and 1,000 apps, 3 rounds
#   N1=200 N2=0 WARMUP=8 WEIGHT_REPS=4 CHURN_REPS=4 STORM_REPS=1 ROUNDS=2 FLEETS=50 \
#     STAMP=quick-x bench/run.sh   # quick smoke run
# Knobs (env): FLEETS ("50 1000", the APPS of each fleet) ROUNDS N1 N2 ENDPOINTS GRPC_SHARE
#   WARMUP WEIGHT_REPS WEIGHT_REPS2 CHURN_REPS STORM_REPS ROLLBACK_REPS SIDECAR_SCOPE
#   SIDECAR_ROUTES (shared or per-app) SERVERS ("floor steelyard stock", also the order within
#   a round) SERVER_OPTS CLIENT_OPTS JFR=1
#   SKIP_BUILD=1 BUILD_ONLY=1 JAR (the bench jar to run) PORT (first port, default 18400)
#   MAVEN_REPO (a local repository for the build, e.g. an empty directory to test a fresh
#   machine) STAMP. See README.md for what each does.
# Per fleet, any of N1 N2 WARMUP WEIGHT_REPS WEIGHT_REPS2 CHURN_REPS STORM_REPS ROLLBACK_REPS
# SIDECAR_SCOPE SIDECAR_ROUTES SERVERS can be set for one fleet only with the suffix _<apps>, e.g.
# WEIGHT_REPS_1000=30. The 1,000-app fleet has smaller defaults (below) unless the plain knob
# is set.
set -euo pipefail
cd "$(dirname "$0")"
started=$(date +%s)

FLEETS=${FLEETS:-"50 1000"}
ROUNDS=${ROUNDS:-3}
ENDPOINTS=${ENDPOINTS:-4}
GRPC_SHARE=${GRPC_SHARE:-0.5}
SERVER_OPTS=${SERVER_OPTS:-"-Xms2g -Xmx2g -XX:+UseG1GC"}
CLIENT_OPTS=${CLIENT_OPTS:-"-Xms3g -Xmx3g -XX:+UseG1GC"}
STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%M)}

# Defaults of the per-fleet knobs: the 50-app fleet, and the 1,000-app fleet (where a change
# costs every server more, stock most: fewer repetitions keep the standard run's time down).
# Unreported weight and endpoint changes before measuring (WARMUP): with 8, JIT compilation was
# most of the server CPU counted per push (results/2026-11-26T2045 and earlier).
# Unreported rollbacks before measuring (ROLLBACK_WARMUP): the weight and endpoint warm-ups do
# not compile the flow path (REST, engine, flow file); without them JIT compiling was 106-356
# ms of the server CPU counted per rollback (results/2026-12-02T0011).
declare -A DEF50=([N1]=1000 [N2]=10000 [WARMUP]=80 [WEIGHT_REPS]=99 [WEIGHT_REPS2]=9
  [CHURN_REPS]=99 [STORM_REPS]=3 [ROLLBACK_REPS]=60 [ROLLBACK_WARMUP]=20 [SIDECAR_SCOPE]=0
  [SIDECAR_ROUTES]=shared [SERVERS]="floor steelyard stock")
# At 1,000 apps stock is left out by default: with one snapshot for all types it sends every
# proxy everything (820 MB per change at N=1,000) and took 25-45 s per change on 2 cores
# (STAMP=quick-1000 run of commit e25d958); SERVERS_1000="floor steelyard stock" adds it.
# With 10 warm-ups at 1,000 apps, JIT compiling was 358 of Steelyard's 575 ms of CPU per
# weight push (results/2026-12-01T1855); 40 as in the scoped runs after it.
declare -A DEF1000=([N1]=1000 [N2]=0 [WARMUP]=40 [WEIGHT_REPS]=24 [WEIGHT_REPS2]=0
  [CHURN_REPS]=24 [STORM_REPS]=3 [ROLLBACK_REPS]=0 [ROLLBACK_WARMUP]=0 [SIDECAR_SCOPE]=0
  [SIDECAR_ROUTES]=shared [SERVERS]="floor steelyard")
# knob NAME APPS: NAME_<apps> if set, else NAME if set, else the fleet's default.
knob() {
  local specific="$1_$2"
  if [[ -n "${!specific:-}" ]]; then echo "${!specific}"; return; fi
  if [[ -n "${!1:-}" ]]; then echo "${!1}"; return; fi
  if [[ "$2" == 1000 ]]; then echo "${DEF1000[$1]}"; else echo "${DEF50[$1]}"; fi
}

# Every stream is a socket in the client and one in the server: N2 streams need N2 + some
# descriptors in each JVM.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for apps in $FLEETS; do
  n=$(knob N2 "$apps"); (( n > $(knob N1 "$apps") )) || n=$(knob N1 "$apps")
  need=$(( n + 1000 ))
  if (( $(ulimit -n) < need )); then
    echo "bench: open-file limit $(ulimit -n) is below the $need that N2=$(knob N2 "$apps") needs" \
      "(raise the hard limit: ulimit -Hn, /etc/security/limits.conf)" >&2
    exit 1
  fi
done

MVN_ARGS=(-B -q -Dstyle.color=never)
if [[ -n "${MAVEN_REPO:-}" ]]; then
  MVN_ARGS+=("-Dmaven.repo.local=$MAVEN_REPO")
fi
# Offline when the local repository has everything, as it does after one build; online
# otherwise (a fresh machine), where -o fails for want of the plugins and dependencies.
build() {
  local log
  log="$(mktemp)"
  if mvn "${MVN_ARGS[@]}" -o "$@" >"$log" 2>&1; then
    rm -f "$log"
    return
  fi
  if ! grep -qi "offline" "$log"; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  echo "bench: the local Maven repository lacks artifacts; building online (mvn $*)" >&2
  mvn "${MVN_ARGS[@]}" "$@"
}
if [[ -z "${SKIP_BUILD:-}" ]]; then
  (cd .. && build install -DskipTests)
  build package
  echo "bench: build took $(( $(date +%s) - started )) s"
fi
if [[ -n "${BUILD_ONLY:-}" ]]; then
  exit 0
fi
JAR=${JAR:-target/steelyard-bench.jar}
mkdir -p results target/raw

pids=()
stop_servers() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_servers EXIT

raw_files=()
for apps in $FLEETS; do
  dir="target/raw/apps$apps"
  mkdir -p "$dir"
  servers=$(knob SERVERS "$apps")
  # All servers of the fleet run at once, each in its own JVM on its own ports; the one harness
  # JVM measures them in turns, so only one is busy at a time.
  targets=()
  port=${PORT:-18400}
  for server in $servers; do
    xds=$port ctl=$((port + 1)) admin=$((port + 2))
    port=$((port + 10))
    jfr=""
    if [[ -n "${JFR:-}" ]]; then
      jfr="-XX:StartFlightRecording=filename=$dir/$server.jfr,settings=profile"
    fi
    rollouts=""
    (( $(knob ROLLBACK_REPS "$apps") > 0 )) && rollouts="-Dbench.rollouts=true"
    # shellcheck disable=SC2086
    java $SERVER_OPTS $jfr $rollouts -Dbench.sidecarRoutes="$(knob SIDECAR_ROUTES "$apps")" \
      -cp "$JAR" dev.steelyard.bench.BenchServer \
      "$server" $xds $ctl $admin "$apps" "$ENDPOINTS" > "$dir/$server.server.log" 2>&1 &
    pids+=($!)
    [[ "$server" == steelyard ]] || admin=0
    targets+=("$server:$xds:$ctl:$admin")
  done
  for server in $servers; do
    for _ in $(seq 1 150); do
      grep -q READY "$dir/$server.server.log" && break
      sleep 0.2
    done
  done
  echo "bench: fleet of $apps apps: ${targets[*]}"
  # shellcheck disable=SC2086
  java $CLIENT_OPTS -Dbench.n1="$(knob N1 "$apps")" -Dbench.n2="$(knob N2 "$apps")" \
    -Dbench.grpcShare="$GRPC_SHARE" -Dbench.rounds="$ROUNDS" \
    -Dbench.weightReps="$(knob WEIGHT_REPS "$apps")" \
    -Dbench.weightReps2="$(knob WEIGHT_REPS2 "$apps")" \
    -Dbench.churnReps="$(knob CHURN_REPS "$apps")" -Dbench.stormReps="$(knob STORM_REPS "$apps")" \
    -Dbench.rollbackReps="$(knob ROLLBACK_REPS "$apps")" \
    -Dbench.rollbackWarmup="$(knob ROLLBACK_WARMUP "$apps")" \
    -Dbench.sidecarScope="$(knob SIDECAR_SCOPE "$apps")" -Dbench.warmup="$(knob WARMUP "$apps")" \
    -cp "$JAR" dev.steelyard.bench.Harness "$dir/harness.json" "$apps" "${targets[@]}" \
    2>&1 | tee "$dir/client.log" | grep --line-buffered -v "^\s*at " || true
  stop_servers
  raw_files+=("$dir/harness.json")
done

elapsed=$(( $(date +%s) - started ))
echo "bench: run took $((elapsed / 60)) min $((elapsed % 60)) s"
python3 report.py --stamp "$STAMP" --server-opts "$SERVER_OPTS" --client-opts "$CLIENT_OPTS" \
  --endpoints "$ENDPOINTS" --grpc-share "$GRPC_SHARE" --elapsed "$elapsed" \
  --out results "${raw_files[@]}"
