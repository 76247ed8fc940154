"""`python -m strangler.cli ...`: the `strangle` console script."""

import sys

from strangler.cli import main

sys.exit(main())
