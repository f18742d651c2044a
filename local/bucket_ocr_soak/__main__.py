import sys

from bucket_ocr_soak.cli import main

sys.exit(main())
