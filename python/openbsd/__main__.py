"""``python -m openbsd``: the ``pdump`` command (see ``openbsd.pdump``).

With no argument it prints each packet of the small sample capture bundled
with the package: its time and its decoded protocol stack (``repr``).
"""

import sys

from openbsd.pdump import SAMPLE, main  # noqa: F401  (SAMPLE: the bundled capture)

if __name__ == "__main__":
    sys.exit(main())
