import sys

from bucket_ocr.backfill.cli import main

sys.exit(main())
