"""The signed-in person as plain values, passed to every service that checks a role."""

from __future__ import annotations

from dataclasses import dataclass

from console.domain import Role
from console.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in user (or a named user on the command line)."""

    user_id: int
    username: str
    display_name: str
    role: Role

    @property
    def is_manager(self) -> bool:
        """Managers may also manage accounts, SLA targets and budgets."""
        return self.role is Role.MANAGER

    def require(self, role: Role, doing: str) -> None:
        """Raise PermissionDenied unless this actor holds ``role`` (a manager holds every role)."""
        if role is Role.MANAGER and not self.is_manager:
            raise PermissionDenied(f"Only a manager may {doing}; {self.username} is a {self.role.value}.")
