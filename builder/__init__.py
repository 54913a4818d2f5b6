"""mathdeck: math-heavy Anki decks as code.

The pipeline, one module per stage: load → check → render → figures → package (see build.py).
"""

__version__ = "0.1.0"
