"""What a Jira field id looks like: `customfield_10050`, or a system field such as `priority`.

The one pattern for settings validation, the admin API and anywhere else a field id comes in.
"""

from __future__ import annotations

import re

#: A Jira field id (custom fields by number; system fields are lower camel case).
FIELD_ID_RE = re.compile(r"^(customfield_\d{1,12}|[a-z][a-zA-Z]{0,63})$")


def is_field_id(value: object) -> bool:
    """True when `value` is a string shaped like a Jira field id."""
    return isinstance(value, str) and FIELD_ID_RE.fullmatch(value) is not None
