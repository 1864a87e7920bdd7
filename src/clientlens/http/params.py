"""Query parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

Limit = Annotated[int, Query(ge=1, le=500, description="rows per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]
# Integer ids in paths stay within the 32-bit range of the store's keys.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]

# Where the REST API is mounted (docs/api.md); the web pages live outside it.
API_PREFIX = "/api/v1"
