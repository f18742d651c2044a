#!/usr/bin/env bash
# Builds the two real servers the integration tests and the local stack use, from the
# Go module proxy at pinned versions. There is no Docker engine to pull images from, and
# MinIO's community edition ships as source only, so `go install` is the one way in.
# Binaries are cached and rebuilt only when missing or when the pin changes.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
RIE_VERSION="${RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}"
CACHE="${OCR_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/s3-ocr-lambda/bin}"

build() { # name module version
  local name=$1 module=$2 version=$3
  local dest="$CACHE/$name-$version"
  if [ -x "$dest/$name" ]; then
    echo "$dest/$name"
    return
  fi
  echo "building $name $version (first time only; minutes)" >&2
  mkdir -p "$dest"
  # CGO off: static binaries, no C toolchain needed; trimpath keeps builds reproducible.
  CGO_ENABLED=0 GOBIN="$dest" GOFLAGS="-trimpath" go install "$module@$version" >&2
  echo "$dest/$name"
}

command -v go >/dev/null || { echo "install-servers: Go is required (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$CACHE"
minio=$(build minio github.com/minio/minio "$MINIO_VERSION")
rie=$(build aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie "$RIE_VERSION")
ln -sf "$minio" "$CACHE/minio"
ln -sf "$rie" "$CACHE/aws-lambda-rie"
echo "MINIO_BIN=$CACHE/minio"
echo "RIE_BIN=$CACHE/aws-lambda-rie"
