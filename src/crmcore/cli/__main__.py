"""Run the command line as ``python -m crmcore.cli``."""

import sys

from crmcore.cli import main

sys.exit(main())
