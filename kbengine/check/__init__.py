"""Checks over the compiled KB: rules that turn content mistakes into located diagnostics."""
