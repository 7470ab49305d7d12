"""joinedup: evaluation of integrated health and social care programmes."""

__version__ = "0.1.0"
