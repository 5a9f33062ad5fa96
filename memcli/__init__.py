"""memcli: a personal memory for the shell."""

__version__ = "0.1.0"
