"""Reading sources: files to model objects plus located diagnostics. Never raises on bad content."""
