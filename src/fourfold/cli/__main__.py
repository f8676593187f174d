"""``python -m fourfold.cli``: the same as the ``fourfold`` command."""

import sys

from . import main

sys.exit(main())
