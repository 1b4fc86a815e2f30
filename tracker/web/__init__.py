"""The web reader (``tracker serve``): the store through a local web page, read-only.

:mod:`tracker.web.app` builds the application; the pages call the same search and store
functions as the command line, and never write.
"""
