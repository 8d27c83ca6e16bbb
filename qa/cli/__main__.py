"""``python -m qa.cli``: the ``qa`` command without the installed script."""

import sys

from qa.cli import main

sys.exit(main())
