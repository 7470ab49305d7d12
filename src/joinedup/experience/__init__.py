"""Person-centred coordinated care measured where comparison is possible: the GP Patient Survey's
practice-level items and the Adult Social Care Survey's ASCOF measures, imported from their
published layouts (:mod:`.gpps`, :mod:`.ascof`), as repeated cross-section outcomes for practices
and councils in the impact designs (:mod:`.design`). See docs/person-centred.md.
"""
