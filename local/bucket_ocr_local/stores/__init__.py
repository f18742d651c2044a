"""The servers that stand in for S3 and SQS, and how each is wired to deliver events."""
