"""``python -m bench`` runs the whole comparison (see ``bench/run.py``)."""

import sys

from .run import main

sys.exit(main())
