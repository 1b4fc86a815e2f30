"""tracker: watch the news and the official record on semiconductor export controls.

Nothing is imported here: ``tracker --help`` should not wait for the pipeline's libraries.
"""

__version__ = "0.1.0"
