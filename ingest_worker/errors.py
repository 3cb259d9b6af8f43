"""How a stage says an asset cannot be processed: a stable code a client can branch on."""


class StageError(Exception):
    """The file itself is the problem: the asset ends `failed` with this code; no retry."""

    def __init__(self, stage: str, code: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.code = code
        self.message = message


class TransientError(Exception):
    """Infrastructure hiccup (storage, network): the task is retried with backoff."""
