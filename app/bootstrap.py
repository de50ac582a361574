"""(placeholder, being written): builds the services web and worker share, in one place."""

from __future__ import annotations

from app.settings import Settings


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
