"""Run the command line as ``python -m crmcore.cli``."""

import sys

from crmcore.cli import main

if __name__ == "__main__":
    sys.exit(main())
