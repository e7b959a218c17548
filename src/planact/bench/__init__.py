"""Benchmarks: suites (MiniWoB++, WebArena-Lite, WebArena, WebVoyager), their scoring, episode runs and reports."""
