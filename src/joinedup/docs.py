"""Docs pages generated from code, so they cannot drift from it (a test compares them with docs/).

Example:
    >>> sorted(GENERATED_PAGES)
    ['data-dictionary.md', 'indicators.md', 'protocol.md']
"""

from joinedup.data.dictionary import render_markdown
from joinedup.indicators.docs import render_catalogue_docs
from joinedup.protocol import render_protocol_docs

GENERATED_PAGES = {"data-dictionary.md": render_markdown, "protocol.md": render_protocol_docs,
                   "indicators.md": render_catalogue_docs}
