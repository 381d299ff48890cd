"""`python -m autodev` runs the CLI."""

import sys

from autodev.cli import main

sys.exit(main())
