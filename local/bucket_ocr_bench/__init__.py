"""`python -m bucket_ocr_bench`: side-by-side speed, accuracy, memory and cost of OCR engines.

Generates a seeded corpus of A4 pages from text installed on the machine, runs the
project's engine, PaddleOCR with its default pipeline settings and Tesseract on the same
pages, drives the real function path (moto server S3 -> event -> result JSON), and writes
JSON, a markdown table and a plot.
"""
