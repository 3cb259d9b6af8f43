"""The web console at /console: static page + a session-keyed proxy onto the /v1 API.

No build step and nothing from the internet: the page, script and styles are files in
`static/`, shipped as package data. See docs/console-and-cli.md.
"""

from picsha.console.router import install_console

__all__ = ["install_console"]
