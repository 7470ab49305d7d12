"""Indicators of integration performance: catalogue, computation, statistics, SPC and funnels."""
