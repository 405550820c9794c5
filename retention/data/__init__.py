"""Input layers: the data model, file readers, row validation, coordinate systems, opening hours."""
