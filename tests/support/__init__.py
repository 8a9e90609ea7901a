"""Helpers shared by the test levels (event loading, Lambda context, waiting)."""
