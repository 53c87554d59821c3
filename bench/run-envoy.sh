#!/usr/bin/env bash
# Real-Envoy scenario: K Envoys (half gateways, half sidecars) on one Steelyard; time from the
# REST call that sets a weight to every Envoy having applied it (each Envoy's own RDS
# update_success counter) and to Steelyard counting every ACK. Writes results/envoy-<stamp>.json.
#   bench/run-envoy.sh                 # K=20, 50 apps, 100 changes after 10 warm-ups
#   K=40 CHANGES=50 bench/run-envoy.sh
# Needs an Envoy binary (bin/install-envoy, STEELYARD_ENVOY or envoy on PATH).
set -euo pipefail
cd "$(dirname "$0")"
K=${K:-20} CHANGES=${CHANGES:-100} WARMUP=${WARMUP:-10} APPS=${APPS:-50}
STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%M)}
if [[ -z "${SKIP_BUILD:-}" ]]; then
  (cd .. && mvn -B -q -Dstyle.color=never install -DskipTests)
  mvn -B -q -Dstyle.color=never package
fi
mkdir -p results
out="results/envoy-$STAMP.json"
# Run from the checkout, where bin/install-envoy puts .envoy/.
(cd .. && java -Xms1g -Xmx1g -cp bench/target/steelyard-bench.jar \
  dev.steelyard.bench.EnvoyFleetBench "$K" "$CHANGES" "$WARMUP" "$APPS") > "$out"
tail -1 "$out"
echo "envoy-bench: wrote bench/$out"
