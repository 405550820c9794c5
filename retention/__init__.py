"""ParkLife domain package: layers, travel times, indicators, survey and retention models.

This package never imports streamlit; the pages in ``pages/`` render what it computes.
"""

from __future__ import annotations

__version__ = "0.1.0"
