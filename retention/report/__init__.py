"""Presentation without compute: maps, tables, summaries for pages and exports."""
