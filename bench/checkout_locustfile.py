"""Locust users for the checkout flow (run by bench/locust_runner.py, not imported by it).

Each simulated user is one shop customer with an access token issued before the run, so the
measured traffic is only the flow itself: put one item in the cart, then check the cart out. The
pair is also reported as one "checkout" entry whose time is the whole flow's.

Environment: BENCH_SETUP_FILE (JSON: tokens, product_ids), BENCH_MAX_CHECKOUTS (0 = no cap).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

import gevent
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

FLOW_TYPE = "FLOW"
FLOW_NAME = "checkout"

_setup = json.loads(Path(os.environ["BENCH_SETUP_FILE"]).read_text())
TOKENS: list[str] = _setup["tokens"]
PRODUCT_IDS: list[int] = _setup["product_ids"]
MAX_CHECKOUTS = int(os.environ.get("BENCH_MAX_CHECKOUTS", "0"))

# Users never share a token: two users on one cart would check out each other's items.
_user_numbers = itertools.count()
_checkouts_started = itertools.count()
_quitting = False


def _stop_run_once(environment) -> None:
    global _quitting
    if not _quitting:
        _quitting = True
        gevent.spawn(environment.runner.quit)


class Customer(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        number = next(_user_numbers)
        if number >= len(TOKENS):
            raise StopUser()
        self.headers = {"Authorization": f"Bearer {TOKENS[number]}"}
        self.random = random.Random(number)

    @task
    def checkout(self) -> None:
        if MAX_CHECKOUTS and next(_checkouts_started) >= MAX_CHECKOUTS:
            _stop_run_once(self.environment)
            raise StopUser()
        product_id = self.random.choice(PRODUCT_IDS)
        started = time.perf_counter()
        failure = self._put_item(product_id) or self._place_order()
        self.environment.events.request.fire(
            request_type=FLOW_TYPE,
            name=FLOW_NAME,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )

    def _put_item(self, product_id: int) -> Exception | None:
        with self.client.put(
            f"/api/cart/items/{product_id}",
            json={"quantity": 1},
            headers=self.headers,
            name="PUT /api/cart/items/{id}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                error = AssertionError(f"cart answered {response.status_code}: {response.text}")
                response.failure(error)
                return error
            response.success()
        return None

    def _place_order(self) -> Exception | None:
        with self.client.post(
            "/api/orders", headers=self.headers, name="POST /api/orders", catch_response=True
        ) as response:
            if response.status_code != 201:
                error = AssertionError(f"checkout answered {response.status_code}: {response.text}")
                response.failure(error)
                return error
            response.success()
        return None
