import sys

from bucket_ocr_bench.cli import main

sys.exit(main())
