"""``python -m upskill_sandbox``."""

import sys

from upskill_sandbox.cli import main

sys.exit(main())
