"""`python -m dlx_lint ...` is the same as the `dlx-lint` command."""

import sys

from .cli import main

sys.exit(main())
