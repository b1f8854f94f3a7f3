"""Who did something: recorded in the activity log and in every event's `actor`."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str  # customer | admin | api | integration | system
    name: str = ""

    @classmethod
    def customer(cls, email: str = "") -> "Actor":
        return cls("customer", email)

    @classmethod
    def admin(cls, user) -> "Actor":
        return cls("admin", getattr(user, "get_username", lambda: str(user))())

    @classmethod
    def api(cls, key_name: str = "") -> "Actor":
        return cls("api", key_name)

    @classmethod
    def integration(cls, name: str) -> "Actor":
        return cls("integration", name)

    @classmethod
    def system(cls) -> "Actor":
        return cls("system")

    def __str__(self) -> str:
        if self.type == "integration":
            return f"integration:{self.name}"
        return self.type


SYSTEM = Actor.system()
