"""Entry script of the frozen program (the same as ``python -m app``).

It lives outside app/ so PyInstaller analyses the installed package, not the
source folder next to the script.
"""

import os
import sys

# The windowed Windows program (FoodArchive.exe, also what the scheduled
# upload runs) has no console: give print() and argparse somewhere to write.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))

from app.cli import main  # noqa: E402

sys.exit(main())
