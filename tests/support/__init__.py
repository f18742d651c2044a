"""Helpers shared by the test suites (page rendering, built model fixtures)."""
