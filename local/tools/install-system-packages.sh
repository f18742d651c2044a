#!/usr/bin/env bash
# System packages the benchmark (and tests that compare against Tesseract) need:
# Tesseract 5 with English and Spanish data, and DejaVu fonts for the page corpus.
# Idempotent: packages already installed are skipped, and apt's index is refreshed only
# when something is missing, so repeated `local/run test` calls stay fast and offline.
set -euo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa fonts-dejavu-core)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages present: ${PACKAGES[*]}" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
