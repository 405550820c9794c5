"""Streamlit glue shared by every page: session state, the sidebar, cached wrappers, map display.

Pages import from here; ``retention`` (the domain package) never imports streamlit.
"""
