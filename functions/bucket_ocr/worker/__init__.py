"""``bucket-ocr-worker``: the self-hosted entry point, beside Lambda's handler.

A worker consumes MinIO's upload events from RabbitMQ, one at a time, and hands each to the
very handler Lambda calls. What Lambda's platform does around a handler (acknowledging,
redelivering, giving up after a number of tries) is done here, so the function itself does
not know which of the two runs it.
"""
