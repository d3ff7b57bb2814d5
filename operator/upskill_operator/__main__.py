"""``python -m upskill_operator``."""

import sys

from upskill_operator.cli import main

sys.exit(main())
