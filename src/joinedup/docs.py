"""Docs pages generated from code, so they cannot drift from it (a test compares them with docs/).

Example:
    >>> sorted(GENERATED_PAGES)
    ['data-dictionary.md', 'protocol.md']
"""

from joinedup.data.dictionary import render_markdown
from joinedup.protocol import render_protocol_docs

GENERATED_PAGES = {"data-dictionary.md": render_markdown, "protocol.md": render_protocol_docs}
