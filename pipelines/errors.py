"""Domain errors: each carries a message a user can act on."""


class GridtwinError(Exception):
    """Base class: the CLI prints the message as one line and exits with code 1."""


class LoadError(GridtwinError, ValueError):
    """A file-level problem: nothing was written to the database."""


class DatabaseBusyError(GridtwinError, RuntimeError):
    """Another process (usually a running server) holds the database file."""
