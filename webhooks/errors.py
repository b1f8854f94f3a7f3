"""Errors of the webhooks app; every surface names the field at fault."""


class InvalidEndpoint(ValueError):
    """A webhook endpoint refused: `field` names the input at fault, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
