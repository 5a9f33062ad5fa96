"""Tests of the command line (SPEC §2 and §5)."""
