"""`local/run soak`: the local stacks end to end, under injected faults, measured.

Uploads of valid, corrupt, re-sent and overwritten small pages go into the moto path
(S3 -> SQS -> workers) and the MinIO path (MinIO -> RabbitMQ -> bucket-ocr-worker) while
workers are killed, the broker and MinIO are stopped and started, Toxiproxy slows and
resets the workers' S3 connections, and real events are delivered twice. Then every
object is checked for exactly one terminal state. Figures, not a pass/fail test; the
short version in tests/integration/test_soak.py is the test.
"""
