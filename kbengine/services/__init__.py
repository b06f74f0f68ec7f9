"""What each capability offers, as plain functions returning values and raising typed errors.

Every front end (the `kb` command line, the HTTP server, MCP) calls these; none of them imports click.
"""
