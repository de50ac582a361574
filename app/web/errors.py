"""(placeholder, being written)"""


def register(flask_app):  # type: ignore[no-untyped-def]
    return None
