"""Domain errors. Their messages are written for the person who asked, in Slack or the CLI."""


class DomainError(Exception):
    """Something the user can fix or should know; never a bug."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class InvalidField(InvalidInput):
    """Bad input in one named field of a form, so a modal can show it next to that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """The request clashes with the current state (a taken slot, a duplicate, a stale view)."""
