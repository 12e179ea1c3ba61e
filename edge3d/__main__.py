import sys

from edge3d.cli import main

sys.exit(main())
