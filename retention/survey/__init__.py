"""Worker surveys: schema, import from survey platforms, mapping, linking, weighting, analysis,
disclosure control."""
