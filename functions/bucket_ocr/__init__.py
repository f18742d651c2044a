"""Event-driven OCR on object storage.

`handler` is the Lambda entry point; everything else is plain code that takes bytes and
clients and knows nothing of Lambda.
"""
