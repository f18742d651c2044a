import sys

from bucket_ocr_local.cli import main

sys.exit(main())
