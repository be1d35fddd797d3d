"""Seeded simulators that make the embedded default data: scenes, cameras, platforms, manipulations.

Submodules: `scenes`, `cameras`, `manipulations`, `platforms`, `measure` (profiles from real downloads).
"""
