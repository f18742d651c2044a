#!/usr/bin/env bash
# Builds the real servers and tools the tests and the local stack use, from the Go module
# proxy at pinned versions. There is no Docker engine to pull images from, and MinIO's
# community edition ships as source only, so `go install` is the one way in.
#   - MinIO and the AWS Lambda Runtime Interface Emulator (integration tests, local stack);
#   - Toxiproxy, the TCP proxy `local/run soak` puts between workers and storage to inject
#     latency and connection resets;
#   - kubeconform and kustomize, which render and validate infra/k8s offline
#     (tests/unit/test_infra.py), and KEDA's Go module, whose CRDs are the schemas of
#     ScaledObject and TriggerAuthentication there.
# Binaries are cached and rebuilt only when missing or when the pin changes. Prints one
# NAME=path line per tool (MINIO_BIN, RIE_BIN, TOXIPROXY_BIN, KUBECONFORM_BIN, KUSTOMIZE_BIN,
# KEDA_CRDS_DIR).
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
RIE_VERSION="${RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}"
# The newest the Go module proxy serves for the /v2 module path (v2.3.0, v2.5.0). Its
# server package is cmd/server, so `go install` names the binary `server`.
TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.5.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
# v5.8.3 needs Go 1.27; v5.8.2 builds with the Go 1.26 of these machines.
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.2}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
CACHE="${OCR_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bucket-ocr/bin}"

build() { # name module version [the name go gives the binary, when it is not name]
  local name=$1 module=$2 version=$3 built=${4:-$1}
  local dest="$CACHE/$name-$version"
  if [ -x "$dest/$built" ]; then
    echo "$dest/$built"
    return
  fi
  echo "building $name $version (first time only; minutes)" >&2
  mkdir -p "$dest"
  # CGO off: static binaries, no C toolchain needed; trimpath keeps builds reproducible.
  CGO_ENABLED=0 GOBIN="$dest" GOFLAGS="-trimpath" go install "$module@$version" >&2
  echo "$dest/$built"
}

module_dir() { # module version: where the module cache holds its files (downloaded once)
  # Outside any Go module, so no go.mod nearby can change what is resolved.
  (cd "$CACHE" && go mod download -json "$1@$2") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

command -v go >/dev/null || { echo "install-servers: Go is required (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CACHE"
minio=$(build minio github.com/minio/minio "$MINIO_VERSION")
rie=$(build aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie "$RIE_VERSION")
toxiproxy=$(build toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server "$TOXIPROXY_VERSION" server)
kubeconform=$(build kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")
kustomize=$(build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")
keda=$(module_dir github.com/kedacore/keda/v2 "$KEDA_VERSION")
[ -d "$keda/config/crd/bases" ] || { echo "install-servers: no CRDs in KEDA $KEDA_VERSION ($keda)" >&2; exit 1; }
ln -sf "$minio" "$CACHE/minio"
ln -sf "$rie" "$CACHE/aws-lambda-rie"
ln -sf "$toxiproxy" "$CACHE/toxiproxy-server"
ln -sf "$kubeconform" "$CACHE/kubeconform"
ln -sf "$kustomize" "$CACHE/kustomize"
echo "MINIO_BIN=$CACHE/minio"
echo "RIE_BIN=$CACHE/aws-lambda-rie"
echo "TOXIPROXY_BIN=$CACHE/toxiproxy-server"
echo "KUBECONFORM_BIN=$CACHE/kubeconform"
echo "KUSTOMIZE_BIN=$CACHE/kustomize"
echo "KEDA_CRDS_DIR=$keda/config/crd/bases"
