"""`kb server`: the KB, its walks and its records as a JSON API and MCP tools for a whole desk.

app.py builds the ASGI app (FastAPI); library.py keeps the compiled KB fresh; content.py and
walks.py are the click-free services the API and MCP share; auth.py and users.py sign callers in.
"""
