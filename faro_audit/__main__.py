import sys

from faro_audit.cli.main import main

sys.exit(main())
