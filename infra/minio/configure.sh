#!/usr/bin/env bash
# Creates bucket-ocr's buckets on a MinIO deployment and sends the input bucket's new
# objects to the "ocr" webhook target. Idempotent: safe to run again.
#   MC_ALIAS=myminio INPUT_BUCKET=ocr-input RESULTS_BUCKET=ocr-results infra/minio/configure.sh
# The target may instead be set through notify-webhook.env; this does it at run time
# with `mc admin config set` when OCR_WEBHOOK_ENDPOINT is given.
set -euo pipefail
alias=${MC_ALIAS:?set MC_ALIAS to an mc alias (mc alias set NAME URL KEY SECRET)}
input=${INPUT_BUCKET:-ocr-input}
results=${RESULTS_BUCKET:-ocr-results}
prefix=${INPUT_PREFIX:-}
suffix=${INPUT_SUFFIX:-}

if [ -n "${OCR_WEBHOOK_ENDPOINT:-}" ]; then
  mc admin config set "$alias" notify_webhook:ocr \
    endpoint="$OCR_WEBHOOK_ENDPOINT" \
    auth_token="${OCR_WEBHOOK_AUTH_TOKEN:?set OCR_WEBHOOK_AUTH_TOKEN}" \
    queue_dir="${OCR_WEBHOOK_QUEUE_DIR:-/data/.minio-notify/ocr}" \
    queue_limit=100000
  # Notification targets are read at start-up.
  mc admin service restart "$alias" --json >/dev/null
fi

mc mb --ignore-existing "$alias/$input" "$alias/$results"
# Neither bucket is readable anonymously: documents and their text are private.
mc anonymous set none "$alias/$input"
mc anonymous set none "$alias/$results"

# Only the input bucket notifies, and only of new objects: a notification on the results
# bucket would OCR the function's own output, forever. Re-adding an existing rule fails,
# so the old one is removed first.
arn=arn:minio:sqs::ocr:webhook
mc event remove "$alias/$input" "$arn" --force >/dev/null 2>&1 || true
mc event add "$alias/$input" "$arn" --event put ${prefix:+--prefix "$prefix"} ${suffix:+--suffix "$suffix"}
mc event list "$alias/$input"
