import sys

from faro_audit.cli.main import main

if __name__ == "__main__":  # a spawned scoring worker imports this module too: do not rerun the CLI
    sys.exit(main())
