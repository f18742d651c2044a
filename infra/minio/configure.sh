#!/usr/bin/env bash
# Connects an existing MinIO deployment to bucket-ocr: creates the buckets and sends the
# input bucket's new objects to the AMQP target "OCR" (RabbitMQ), whose queue the workers
# consume. Idempotent: safe to run again.
#   MC_ALIAS=myminio INPUT_BUCKET=ocr-input RESULTS_BUCKET=ocr-results infra/minio/configure.sh
# The target is either in MinIO's environment already (notify-amqp.env beside this file),
# or set here at run time with `mc admin config set` when OCR_AMQP_URL is given, e.g.
#   OCR_AMQP_URL='amqp://bucket-ocr:PASSWORD@rabbitmq.example.internal:5672/%2F'
# Run `bucket-ocr-worker setup` (exchange, queues, binding) before the first upload: MinIO
# declares the exchange but not the queue, and RabbitMQ drops what no queue is bound for.
set -euo pipefail
alias=${MC_ALIAS:?set MC_ALIAS to an mc alias (mc alias set NAME URL KEY SECRET)}
input=${INPUT_BUCKET:-ocr-input}
results=${RESULTS_BUCKET:-ocr-results}
prefix=${INPUT_PREFIX:-}
suffix=${INPUT_SUFFIX:-}

# The target ID is kept as written, case included: OCR here, _OCR in notify-amqp.env, and
# OCR in the ARN below are one and the same target.
target=OCR
arn="arn:minio:sqs::$target:amqp"

if [ -n "${OCR_AMQP_URL:-}" ]; then
  # The same settings as notify-amqp.env (see the reasons there), as configuration keys.
  # Exchange flags must match what `bucket-ocr-worker setup` declares, since MinIO declares
  # the exchange too before each publish. Note publisher_confirms here against
  # MINIO_NOTIFY_AMQP_PUBLISHING_CONFIRMS_* in the environment form.
  mc admin config set "$alias" "notify_amqp:$target" \
    url="$OCR_AMQP_URL" \
    exchange="${OCR_WORK_EXCHANGE:-bucket-ocr}" \
    exchange_type=direct \
    routing_key="${OCR_WORK_ROUTING_KEY:-uploads}" \
    durable=on \
    auto_deleted=off \
    internal=off \
    delivery_mode=2 \
    publisher_confirms=on \
    mandatory=off \
    queue_dir="${OCR_AMQP_QUEUE_DIR:-/data/events}" \
    queue_limit="${OCR_AMQP_QUEUE_LIMIT:-100000}"
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
mc event remove "$alias/$input" "$arn" --force >/dev/null 2>&1 || true
mc event add "$alias/$input" "$arn" --event put ${prefix:+--prefix "$prefix"} ${suffix:+--suffix "$suffix"}
mc event list "$alias/$input"
