"""Backfill: OCR the objects already in a bucket, through the path new uploads take.

``plan`` lists a prefix and says, for each object, whether its result is already there;
a target (an SQS queue, an async Lambda invoke, a RabbitMQ queue) takes an S3 notification
for each one to do, so the function reads it exactly as it reads an upload's event.
"""

from bucket_ocr.backfill.plan import ENQUEUE, ListedObject, plan
from bucket_ocr.backfill.run import Summary, backfill
from bucket_ocr.backfill.targets import Target, target_for

__all__ = ["ENQUEUE", "ListedObject", "Summary", "Target", "backfill", "plan", "target_for"]
