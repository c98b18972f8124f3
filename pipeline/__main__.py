"""`python -m pipeline`: the `seaworthy` command (pipeline/cli.py)."""

import sys

from pipeline.cli import main

sys.exit(main())
