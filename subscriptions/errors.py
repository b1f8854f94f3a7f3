"""Domain errors: what every surface shows a person when a business rule refuses an action."""


class DomainError(Exception):
    """A refused action. `code` is machine-readable (API: 409 body), `message` is for people,
    `field` names the input at fault when there is one."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message
