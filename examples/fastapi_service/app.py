"""A small FastAPI service embedding loyaltykit: enrol, earn, redeem, balance.

Run it with ``uvicorn --factory app:create_app`` from this folder (``LOYALTYKIT_STORAGE`` picks the
store, ``sqlite:///loyalty.db`` by default). The recipe is docs/recipes/fastapi.md;
tests/integration/test_recipes.py drives it through FastAPI's TestClient.

- Handlers are ``async def`` and call :class:`loyaltykit.aio.AsyncLoyalty`, so a command
  waiting for a member's row lock never blocks the event loop.
- Every mutating request carries an ``Idempotency-Key`` header; a client retrying
  after a timeout gets the first outcome back.
- Results are loyaltykit's public JSON form (``to_json_dict``), and their JSON Schemas
  are in the OpenAPI document.
- Every loyaltykit error becomes an ``application/problem+json`` answer with the
  error's ``http_status`` and ``code``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from loyaltykit import Balance, Customer, Loyalty, Receipt, errors
from loyaltykit.aio import AsyncLoyalty
from loyaltykit.formats.json import json_schema, to_json_dict

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


class PointsRequest(BaseModel):
    """The body of an earn or a redemption."""

    points: int = Field(gt=0)
    reason: str = ""


def _documented(cls: type[Any]) -> dict[int | str, dict[str, Any]]:
    # loyaltykit's JSON Schema of the result, so generated clients get real types
    return {200: {"content": {"application/json": {"schema": json_schema(cls)}}}}


def _problem(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.LoyaltyError)
    return JSONResponse(
        error.problem(), status_code=error.http_status, media_type="application/problem+json"
    )


def create_app(
    loyalty: Loyalty | None = None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_threads: int = 16,
) -> FastAPI:
    """The service over ``loyalty`` (one shared facade; a SQLite file by default).

    ``clock`` is where the service reads the time: loyaltykit never does, every command
    takes ``at``; tests pass a fixed clock.
    """
    shared = loyalty or Loyalty(
        storage=os.environ.get("LOYALTYKIT_STORAGE", "sqlite:///loyalty.db")
    )
    service = AsyncLoyalty.wrap(shared, max_threads=max_threads)
    app = FastAPI(title="loyalty", version="1")
    app.add_exception_handler(errors.LoyaltyError, _problem)

    @app.post("/members/{customer_id}", status_code=201, responses=_documented(Customer))
    async def enroll(customer_id: str, idempotency_key: IdempotencyKey) -> JSONResponse:
        customer = await service.enroll(customer_id, at=clock(), idempotency_key=idempotency_key)
        return JSONResponse(to_json_dict(customer), status_code=201)

    async def points_command(
        command: Callable[..., Awaitable[Receipt]], customer_id: str, body: PointsRequest, key: str
    ) -> JSONResponse:
        receipt = await command(
            customer_id, body.points, at=clock(), idempotency_key=key, reason=body.reason
        )
        return JSONResponse(to_json_dict(receipt))

    @app.post("/members/{customer_id}/earn", responses=_documented(Receipt))
    async def earn(
        customer_id: str, body: PointsRequest, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        return await points_command(service.earn, customer_id, body, idempotency_key)

    @app.post("/members/{customer_id}/redeem", responses=_documented(Receipt))
    async def redeem(
        customer_id: str, body: PointsRequest, idempotency_key: IdempotencyKey
    ) -> JSONResponse:
        return await points_command(service.redeem_points, customer_id, body, idempotency_key)

    @app.get("/members/{customer_id}/balance", responses=_documented(Balance))
    async def balance(customer_id: str) -> JSONResponse:
        return JSONResponse(to_json_dict(await service.balance(customer_id)))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
