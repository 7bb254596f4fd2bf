import pytest


@pytest.fixture(autouse=True)
def private_cache(isolated_cache):
    """Device pages read report parts from the cache (dashboard.report_cache): each test
    starts with a private, empty one, so query counts and pages do not depend on what
    other tests left in the shared cache (tests/conftest.py)."""
