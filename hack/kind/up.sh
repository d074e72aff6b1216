#!/usr/bin/env bash
# The kind route, for a machine with a Docker engine: builds both images from this checkout, loads
# them into a kind cluster, installs the operator with its Helm chart, applies the sample assistant
# and asks it a question through a port-forward. Needs docker, kind, kubectl, helm, Node.js 20.
#
#   hack/kind/up.sh          create (or reuse) the cluster and do all of the above
#   hack/kind/up.sh down     delete the cluster
#
# Our build machines have no Docker engine, so CI never runs this script; `npm run demo` walks the
# same steps on a local control plane without containers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cluster=ai-assistant
port=${PORT:-8080}

if [[ "${1:-}" == down ]]; then exec kind delete cluster --name "$cluster"; fi

kind get clusters | grep -qx "$cluster" || kind create cluster --config hack/kind/cluster.yaml

# The image names and tag the chart and the operator deploy by default: operator/src/api/images.ts.
npm ci --no-audit --no-fund && npm run build
read -r operator_image assistant_image < <(node --input-type=module -e \
  'const m = await import("./operator/dist/src/api/images.js"); console.log(m.operatorImage, m.defaultAssistantImage)')
docker build -f operator/Dockerfile -t "$operator_image" .
docker build -f assistant/Dockerfile -t "$assistant_image" .
kind load docker-image "$operator_image" "$assistant_image" --name "$cluster"

helm upgrade --install ai-assistant-operator charts/ai-assistant-operator \
  --namespace aiassistant-system --create-namespace --wait --timeout 5m

kubectl create namespace team-a --dry-run=client -o yaml | kubectl apply -f -
kubectl -n team-a apply -f config/samples/aiassistant.yaml
kubectl -n team-a wait aia/demo --for=condition=Ready --timeout=5m
kubectl -n team-a get aia,deployments,services,pvc

kubectl -n team-a port-forward svc/demo "$port:80" >/dev/null &
forward=$!
trap 'kill "$forward"' EXIT
for _ in $(seq 30); do curl -sf "http://localhost:$port/readyz" >/dev/null && break; sleep 1; done
curl -sS "http://localhost:$port/api/v1/chat" -H 'content-type: application/json' \
  -d '{"message": "My VPN connection drops every few minutes, what should I do?"}'
echo
echo "The assistant stays up; port-forward again with: kubectl -n team-a port-forward svc/demo $port:80"
