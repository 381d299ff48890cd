"""`python -m autodev` runs the CLI."""

import sys

from autodev.apps.cli.main import main

sys.exit(main())
