"""``python -m retention``: the ``parklife`` command line (``retention.cli``)."""

from __future__ import annotations

from retention.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
