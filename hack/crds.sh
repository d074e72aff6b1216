#!/usr/bin/env bash
# Prints the folder holding the Prometheus Operator's CRDs (monitoring.coreos.com: ServiceMonitor,
# PrometheusRule, ...) of the release hack/tools/prometheus-operator/go.mod pins. The e2e tier
# installs them so the API server checks the chart's monitoring objects against the real schema.
#
#   hack/crds.sh prometheus-operator
#
# The files come from the Go module proxy, verified against the module's go.sum, into the Go
# module cache, where later runs find them.
set -euo pipefail

[[ "${1:-}" == prometheus-operator ]] || { echo "usage: $0 prometheus-operator" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/tools/prometheus-operator"
module_dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download -json github.com/prometheus-operator/prometheus-operator |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d "$module_dir/example/prometheus-operator-crd" ]] || { echo "crds: no CRD folder in the module ($module_dir)" >&2; exit 1; }
echo "$module_dir/example/prometheus-operator-crd"
