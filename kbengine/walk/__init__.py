"""Walking trees: the pure engine, session records and the hand-over."""
