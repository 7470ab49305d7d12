"""WP1 process evaluation over time: the initiative register, its longitudinal typology, the
triangulation of self-reported progress, and the interview panel (see docs/process-evaluation.md)."""
