"""Record ids as the API accepts them: positive, and no larger than the database holds.

An id beyond 64 bits reaches no query (SQLite and PostgreSQL would fail on it with a 500):
Ninja refuses it with a 422 naming the field, and services refuse it the same way.
"""

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A record's id in a request body, query string or path."""


def id_in_range(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
