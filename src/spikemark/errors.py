"""Exceptions shared by stages (kept free of heavy imports)."""


class StageFailed(RuntimeError):
    """An upstream stage recorded a failure or skip instead of producing its artefact."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason
