#!/usr/bin/env bash
# kind end-to-end tests for Steelyard on Kubernetes.
#
# Creates a kind cluster, builds and loads the server image, deploys the control plane, the Envoy
# gateway and the example hello-app (main, baseline, canary, each pod with an Envoy sidecar), and
# checks what a user would: pods Ready, Envoy's endpoints per subset equal to the pods' IPs by
# role, ~1,000 requests through the gateway within 5 sigma of the split's weights (test and
# deploy modes), a weight change reaching the gateway within WEIGHT_CHANGE_LIMIT seconds, and no
# 5xx under load once the endpoints of a deleted canary pod are updated.
#
# Prints "N passed, N failed". Where Docker or kind are missing it prints one SKIPPED line and
# exits 0. Environment: KEEP_CLUSTER=1 keeps the cluster; ARTIFACTS=dir receives logs and Envoy
# config on failure (default target/kind-e2e).
set -uo pipefail

CLUSTER=${CLUSTER:-steelyard-e2e}
IMAGE=steelyard:dev
REQUESTS=${REQUESTS:-1000}
WEIGHT_CHANGE_LIMIT=${WEIGHT_CHANGE_LIMIT:-10}
HOST_HEADER=hello-app.example.com
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ARTIFACTS=${ARTIFACTS:-$ROOT/target/kind-e2e}
SYS=steelyard-system

missing=()
command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || missing+=("a working Docker engine (docker info failed)")
command -v kind >/dev/null 2>&1 || missing+=("kind")
command -v kubectl >/dev/null 2>&1 || missing+=("kubectl")
if [ ${#missing[@]} -gt 0 ]; then
  echo "SKIPPED: kind end-to-end tests need $(IFS=,; echo "${missing[*]}" | sed 's/,/, /g'); nothing was run"
  exit 0
fi

passed=0
failed=0
pids=()
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
log() { echo "--- $*"; }

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  if [ "${KEEP_CLUSTER:-0}" != 1 ]; then
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1
  fi
}
trap cleanup EXIT

dump() {
  mkdir -p "$ARTIFACTS"
  log "failure: logs and Envoy config in $ARTIFACTS"
  kubectl get pods -A -o wide >"$ARTIFACTS/pods.txt" 2>&1
  kubectl get trafficsplits -A -o yaml >"$ARTIFACTS/trafficsplits.yaml" 2>&1
  kubectl logs -n $SYS -l app.kubernetes.io/name=steelyard --tail=-1 --prefix >"$ARTIFACTS/steelyard.log" 2>&1
  kubectl logs -n $SYS -l app.kubernetes.io/name=envoy-gateway --tail=-1 >"$ARTIFACTS/gateway.log" 2>&1
  kubectl logs -n default -l app=hello-app -c envoy --tail=200 --prefix >"$ARTIFACTS/sidecars.log" 2>&1
  admin "/config_dump" >"$ARTIFACTS/gateway-config_dump.json" 2>&1
  admin "/clusters" >"$ARTIFACTS/gateway-clusters.txt" 2>&1
  kubectl get events -A --sort-by=.lastTimestamp >"$ARTIFACTS/events.txt" 2>&1
  tail -n 40 "$ARTIFACTS/steelyard.log"
}

# The gateway's Envoy admin API, through a port-forward started below.
admin() { curl -s --max-time 5 "http://127.0.0.1:19901$1"; }

# Runs N requests through the gateway from inside the cluster; prints one "role code" per line.
through_gateway() {
  kubectl exec -n default loadgen -- sh -c "for i in \$(seq $1); do
    r=\$(curl -s --max-time 5 -H 'Host: $HOST_HEADER' -w ' %{http_code}' http://envoy-gateway.$SYS/ || echo 'error 000')
    echo \$r; done"
}

# Sets hello-app's mesh split and waits until the gateway has the routes version that carries it.
# Prints the seconds it took.
set_split() {
  local mode=$1 weight=$2 start version previous deadline
  previous=$(kubectl get trafficsplit hello-app -n default -o jsonpath='{.status.routesVersions.gateway}')
  start=$(date +%s.%N)
  kubectl patch trafficsplit hello-app -n default --type=merge \
    -p "{\"spec\":{\"mesh\":{\"mode\":\"$mode\",\"canaryWeight\":$weight}}}" >/dev/null || return 1
  deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    applied=$(kubectl get trafficsplit hello-app -n default \
      -o jsonpath='{.status.applied.mesh.mode}/{.status.applied.mesh.canaryWeight}')
    if [ "$applied" = "$mode/$weight" ]; then
      version=$(kubectl get trafficsplit hello-app -n default -o jsonpath='{.status.routesVersions.gateway}')
      # The status may show the new split a moment before the routes that carry it.
      if [ -n "$version" ] && [ "$version" != "$previous" ] && admin "/config_dump?resource=dynamic_route_configs" | grep -q "\"version_info\": \"$version\""; then
        awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { printf "%.1f", now - start }'
        return 0
      fi
    fi
    sleep 0.2
  done
  return 1
}

# Checks counts of "role 200" lines against weights within 5 sigma of a binomial.
check_split() {
  local name=$1 out=$2 main=$3 baseline=$4 canary=$5
  awk -v n="$REQUESTS" -v pm="$main" -v pb="$baseline" -v pc="$canary" -v name="$name" '
    { total++; if ($2 == 200) count[$1]++; else errors++ }
    END {
      ok = (total == n && errors == 0)
      split("main baseline canary", roles, " "); p["main"] = pm / 100; p["baseline"] = pb / 100; p["canary"] = pc / 100
      for (i = 1; i <= 3; i++) {
        r = roles[i]; mean = n * p[r]; sigma = sqrt(n * p[r] * (1 - p[r]))
        if (count[r] + 0 < mean - 5 * sigma || count[r] + 0 > mean + 5 * sigma) ok = 0
        detail = detail sprintf(" %s=%d (expected %.0f +- %.0f)", r, count[r], mean, 5 * sigma)
      }
      printf "%s: %d requests, %d errors:%s\n", name, total, errors, detail
      exit ok ? 0 : 1
    }' "$out"
}

subset_ips_envoy() { admin "/clusters" | grep "^default/hello-app/$1::" | grep "::health_flags::" \
  | awk -F'::' '{print $2}' | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' '; }
subset_ips_pods() { kubectl get pods -n default -l "app=hello-app,app-role=$1" \
  --field-selector=status.phase=Running \
  -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort -u | tr '\n' ' '; }

log "cluster $CLUSTER"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config "$ROOT/k8s/e2e/kind-config.yaml" --wait 180s || { echo "0 passed, 1 failed"; exit 1; }
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

log "build and load $IMAGE"
(cd "$ROOT" && mvn -B -q -DskipTests package && docker build -q -f server/Dockerfile -t $IMAGE .) \
  && kind load docker-image $IMAGE --name "$CLUSTER" || { echo "0 passed, 1 failed"; exit 1; }

log "deploy"
# The xDS token the control plane checks and the Envoys send: one Secret per namespace with Envoys.
XDS_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for ns in $SYS default; do
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl -n "$ns" create secret generic steelyard-xds-token --from-literal=token="$XDS_TOKEN" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
done
kubectl apply -k "$ROOT/k8s" >/dev/null && kubectl wait --for=condition=Established \
  crd/trafficsplits.steelyard.dev --timeout=60s >/dev/null
kubectl apply -k "$ROOT/k8s/examples/hello-app" >/dev/null
kubectl run loadgen -n default --image=curlimages/curl:8.11.1 --restart=Never --command -- sleep 3600 >/dev/null 2>&1

# 1. Everything Ready.
rollouts() {
  kubectl rollout status -n $SYS deploy/steelyard --timeout=180s >/dev/null || return 1
  kubectl rollout status -n $SYS deploy/envoy-gateway --timeout=180s >/dev/null || return 1
  for role in main baseline canary; do
    kubectl rollout status -n default deploy/hello-app-$role --timeout=180s >/dev/null || return 1
  done
}
if rollouts \
  && kubectl wait -n default --for=condition=Ready pod/loadgen --timeout=120s >/dev/null \
  && kubectl wait --for=condition=Ready pods --all -n $SYS --timeout=60s >/dev/null \
  && kubectl wait --for=condition=Ready pods --all -n default --timeout=60s >/dev/null; then
  pass "all pods Ready"
else
  fail "not all pods became Ready"
fi

kubectl port-forward -n $SYS deploy/envoy-gateway 19901:9901 >/dev/null 2>&1 &
pids+=($!)
sleep 2

# 2. Envoy's endpoints per subset are the pods' IPs by role.
ok=1
for role in main baseline canary; do
  want=$(subset_ips_pods $role)
  got=""
  for _ in $(seq 50); do got=$(subset_ips_envoy $role); [ "$got" = "$want" ] && break; sleep 0.2; done
  echo "  $role: pods [$want] envoy [$got]"
  [ -n "$want" ] && [ "$got" = "$want" ] || ok=0
done
[ $ok = 1 ] && pass "gateway endpoints per subset equal the pods' IPs by role" \
  || fail "gateway endpoints differ from the pods' IPs by role"

# 3. Canary test 20 through the gateway; 4. weight change time; 5. canary deploy 25.
out=$(mktemp)
if took=$(set_split test 20); then
  echo "  test 20 reached the gateway in ${took}s"
  through_gateway "$REQUESTS" >"$out"
  check_split "test 20" "$out" 80 0 20 && pass "test mode split within 5 sigma" || fail "test mode split outside 5 sigma"
else
  fail "test 20 did not reach the gateway"
fi
if took=$(set_split deploy 25); then
  awk -v t="$took" -v limit="$WEIGHT_CHANGE_LIMIT" 'BEGIN { exit !(t <= limit) }' \
    && pass "weight change reached the gateway in ${took}s (limit ${WEIGHT_CHANGE_LIMIT}s)" \
    || fail "weight change took ${took}s (limit ${WEIGHT_CHANGE_LIMIT}s)"
  through_gateway "$REQUESTS" >"$out"
  check_split "deploy 25" "$out" 50 25 25 && pass "deploy mode split within 5 sigma" || fail "deploy mode split outside 5 sigma"
else
  fail "deploy 25 did not reach the gateway"
fi

# 6. Delete a canary pod under load: no 5xx for requests sent after the gateway stopped listing
#    its IP (each request is stamped when it starts).
load=$(mktemp)
kubectl exec -n default loadgen -- sh -c "end=\$((\$(date +%s) + 25)); while [ \$(date +%s) -lt \$end ]; do
  t=\$(date +%s%N); case \$t in *N) t=\$((\$(date +%s) * 1000000000));; esac
  c=\$(curl -s -o /dev/null --max-time 5 -H 'Host: $HOST_HEADER' -w '%{http_code}' http://envoy-gateway.$SYS/)
  echo \"\$t \$c\"; done" >"$load" &
loadpid=$!
sleep 5
victim=$(kubectl get pods -n default -l app=hello-app,app-role=canary -o jsonpath='{.items[0].metadata.name}')
victim_ip=$(kubectl get pod -n default "$victim" -o jsonpath='{.status.podIP}')
kubectl delete pod -n default "$victim" --wait=false >/dev/null
updated=""
for _ in $(seq 150); do
  if ! admin "/clusters" | grep "^default/hello-app/canary::" | grep -q "::$victim_ip:"; then
    updated=$(date +%s%N); break
  fi
  sleep 0.1
done
wait $loadpid
if [ -z "$updated" ]; then
  fail "the gateway still lists deleted canary pod $victim ($victim_ip) after 15 s"
else
  after=$(awk -v t="$updated" '$1 > t' "$load" | wc -l)
  bad=$(awk -v t="$updated" '$1 > t && $2 >= 500' "$load" | wc -l)
  before_bad=$(awk -v t="$updated" '$1 <= t && $2 >= 500' "$load" | wc -l)
  echo "  $after requests after the endpoint update, $bad of them 5xx ($before_bad 5xx before it)"
  [ "$after" -gt 0 ] && [ "$bad" -eq 0 ] && pass "no 5xx after a deleted canary pod left the endpoints" \
    || fail "5xx after the endpoint update, or no requests measured"
fi
rm -f "$out" "$load"

[ $failed -gt 0 ] && dump
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
