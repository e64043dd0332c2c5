"""The recipes under examples/ run: the FastAPI service and the Django app."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
from fastapi.testclient import TestClient

from loyaltykit import Balance, Loyalty, Receipt
from loyaltykit.formats.json import from_json_dict, json_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AT = datetime(2026, 5, 1, 12, tzinfo=UTC)


def _fastapi_app_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "fastapi_service_app", EXAMPLES / "fastapi_service" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["memory", "sqlite"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> TestClient:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'shop.db'}"
    app = _fastapi_app_module().create_app(Loyalty(storage=url), clock=lambda: AT)
    return TestClient(app)


def test_the_fastapi_service_enrols_earns_redeems_and_answers_the_json_form(
    client: TestClient,
) -> None:
    with client:
        created = client.post("/members/ann", headers={"Idempotency-Key": "enroll-ann"})
        assert created.status_code == 201 and created.json()["id"] == "ann"
        earned = client.post(
            "/members/ann/earn", json={"points": 120}, headers={"Idempotency-Key": "order-1"}
        )
        assert earned.status_code == 200
        receipt = from_json_dict(Receipt, earned.json())
        assert receipt.balance.available == 120 and not receipt.replayed
        jsonschema.validate(earned.json(), json_schema(Receipt))
        again = client.post(
            "/members/ann/earn", json={"points": 120}, headers={"Idempotency-Key": "order-1"}
        )
        assert again.json()["replayed"] is True  # a client's retry: the first outcome
        redeemed = client.post(
            "/members/ann/redeem", json={"points": 20}, headers={"Idempotency-Key": "r-1"}
        )
        assert redeemed.json()["balances"][0]["available"] == 100
        balance = client.get("/members/ann/balance")
        assert from_json_dict(Balance, balance.json()).available == 100
        # errors map by their code and http_status
        twice = client.post("/members/ann", headers={"Idempotency-Key": "enroll-again"})
        assert twice.status_code == 409
        assert twice.headers["content-type"] == "application/problem+json"
        assert twice.json()["type"] == "customer_already_exists"
        unknown = client.get("/members/nobody/balance")
        assert (unknown.status_code, unknown.json()["type"]) == (404, "unknown_customer")
        reused = client.post(
            "/members/ann/earn", json={"points": 5}, headers={"Idempotency-Key": "order-1"}
        )
        assert (reused.status_code, reused.json()["type"]) == (422, "idempotency_conflict")
        # the results' schemas are in the OpenAPI document
        schema = client.get("/openapi.json").json()
        earn_answer = schema["paths"]["/members/{customer_id}/earn"]["post"]["responses"]["200"]
        assert earn_answer["content"]["application/json"]["schema"]["$ref"] == "#/$defs/Receipt"


def test_fifty_concurrent_redemptions_of_the_last_points_one_succeeds(
    client: TestClient,
) -> None:
    with client:
        client.post("/members/ann", headers={"Idempotency-Key": "enroll-ann"})
        client.post("/members/ann/earn", json={"points": 10}, headers={"Idempotency-Key": "fund"})

        def redeem(n: int) -> int:
            answer = client.post(
                "/members/ann/redeem", json={"points": 10}, headers={"Idempotency-Key": f"r-{n}"}
            )
            if answer.status_code != 200:
                assert answer.json()["type"] == "insufficient_points", answer.json()
            return answer.status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = sorted(pool.map(redeem, range(50)))
        assert statuses == [200] + [409] * 49
        assert client.get("/members/ann/balance").json()["available"] == 0


def test_the_django_app_runs_its_tests_the_due_command_and_the_balance_page(
    tmp_path: Path,
) -> None:
    project = EXAMPLES / "django_app"
    environment = {
        **os.environ,
        "LOYALTYKIT_STORAGE": f"sqlite:///{tmp_path / 'django.db'}",
        "PYTHONWARNINGS": "error",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "test", "--verbosity", "2"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ran 3 tests" in result.stderr and "OK" in result.stderr
