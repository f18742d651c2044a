"""bucket-ocr on one machine: the same function, fed by the same kinds of events it gets in AWS.

Two event paths, both real servers on 127.0.0.1:
- embedded (moto server): input bucket -> S3 notification -> SQS queue -> workers -> function,
  with the queue's redrive policy moving a message that keeps failing to the dead-letter queue;
- MinIO: input bucket -> MinIO's AMQP notification target -> RabbitMQ quorum queue ->
  `bucket-ocr-worker` processes -> function, with the queue's delivery limit moving a
  message that keeps failing to the dead-letter queue on the broker (infra/compose's topology).

On the embedded path the function runs in-process (fast) or under awslambdaric driven by
the Runtime Interface Emulator, exactly as the container runs it.
"""
