"""``python -m custbond``: the ``custbond`` command (see :mod:`custbond.cli`)."""

from custbond.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
