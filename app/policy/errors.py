"""The policy core's one exception family."""


class PolicyError(ValueError):
    """A policy, duration or ticket fact the core cannot accept.

    `path` names where the problem is (`tiers.premium.sev1.first_response.duration`), empty when
    the problem has no place in a document.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
