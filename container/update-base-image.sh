#!/usr/bin/env bash
# Pins container/Dockerfile's base image by digest, keeping its tag in the reference
# (`ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:...`: the builder pulls by the digest,
# the tag says what it was). Run again to move the pin to what the tag names today, e.g.
# after a Debian security update; review and commit the one-line change. The sibling of
# update-locks.sh, which pins the Python packages.
#
# Needs a registry and one of: crane (go-containerregistry), docker with buildx, skopeo.
#   container/update-base-image.sh
#   DOCKERFILE=path/to/Dockerfile container/update-base-image.sh   # another file (the tests)
# The Dockerfile has no `# syntax=` line, so there is no frontend image to pin; should one
# be added, pin it the same way (`# syntax=docker/dockerfile:1@sha256:...`).
set -euo pipefail
cd "$(dirname "$0")/.."
dockerfile=${DOCKERFILE:-container/Dockerfile}

line=$(grep -E '^ARG PYTHON_IMAGE=' "$dockerfile") || { echo "no 'ARG PYTHON_IMAGE=' line in $dockerfile" >&2; exit 1; }
reference=${line#ARG PYTHON_IMAGE=}
tag=${reference%@*}

if command -v crane >/dev/null; then
  digest=$(crane digest "$tag")
elif command -v docker >/dev/null && docker buildx version >/dev/null 2>&1; then
  digest=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest}}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])')
elif command -v skopeo >/dev/null; then
  digest=$(skopeo inspect --format '{{.Digest}}' "docker://$tag")
else
  echo "need crane, docker buildx or skopeo to look up $tag" >&2
  exit 1
fi

# Whatever the tool printed, only a well-formed digest may go into the Dockerfile.
if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "not a digest for $tag: $digest" >&2
  exit 1
fi
sed -i "s|^ARG PYTHON_IMAGE=.*|ARG PYTHON_IMAGE=$tag@$digest|" "$dockerfile"
echo "$tag@$digest"
