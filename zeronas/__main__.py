import sys

from zeronas.cli import main

sys.exit(main())
