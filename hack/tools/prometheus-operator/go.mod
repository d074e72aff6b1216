// Pins the Prometheus Operator release whose CRDs (monitoring.coreos.com) hack/crds.sh provides.
module aiassistant.dev/hack/tools/prometheus-operator

go 1.24.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
