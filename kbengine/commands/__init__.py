"""One module per `kb` command; each defines `command`, a click command."""
