#!/usr/bin/env bash
# System packages the tests and the benchmark need, from Debian:
#   - Tesseract 5 with English and Spanish data, and DejaVu fonts for the page corpus
#     (the benchmark's comparison);
#   - rabbitmq-server (3.10 on bookworm): the local stack and the integration tests start
#     nodes of their own from it (bucket_ocr_local.stores.rabbitmq_server), never the
#     system service;
#   - docker-compose (1.29): only to validate the Compose files offline (`config -q`);
#   - poppler-utils: pdftotext, a second independent reader of the searchable PDFs
#     (OCR_OUTPUTS=pdf) besides PDFium.
# Idempotent: packages already installed are skipped, and apt's index is refreshed only
# when something is missing, so repeated `local/run test` calls stay fast and offline.
set -euo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa fonts-dejavu-core rabbitmq-server docker-compose poppler-utils)

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

rabbitmq_was_installed=true
installed rabbitmq-server || rabbitmq_was_installed=false

echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg (another `local/run test`) instead of failing on its lock.
APT=(apt-get -o DPkg::Lock::Timeout=600)
$SUDO "${APT[@]}" update -qq
$SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2

# rabbitmq-server's postinst enables the system node and starts it where services may
# start (systemd, or sysvinit without a policy-rc.d that forbids it, as containers have).
# We never use that node: ours (bucket_ocr_local.stores.rabbitmq_server) have their own
# ports, data, cookie and epmd port. Stop it and keep it from starting at boot, so it holds
# no ports, memory or CPU, then end the default epmd (port 4369) it leaves behind if no
# node is registered there any more. Only right after installing: a system node that an
# administrator runs on purpose is theirs, and does not disturb ours.
disable_system_rabbitmq() {
  if [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now rabbitmq-server.service >/dev/null 2>&1 || true
  else
    $SUDO update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
    [ ! -x /etc/init.d/rabbitmq-server ] || $SUDO /etc/init.d/rabbitmq-server stop >/dev/null 2>&1 || true
  fi
  if command -v epmd >/dev/null && epmd -names >/dev/null 2>&1 && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

if ! $rabbitmq_was_installed && installed rabbitmq-server; then
  echo "stopping and disabling the system rabbitmq-server service (the stack and tests run nodes of their own)" >&2
  disable_system_rabbitmq
fi
