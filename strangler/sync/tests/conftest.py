"""The sync machinery is exercised inside the example monolith, whose users are synced."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api() -> APIClient:
    return APIClient()
