"""Fixtures of the simulator's own tests.

The simulator plugin's fixtures are imported rather than registered with
``pytest_plugins``: pytest only allows that in the top-level conftest, and the lead
registers the plugin there for the whole suite. Importing them keeps this directory
runnable on its own (``pytest tests/simulator -p no:django --confcutdir=tests/simulator``).
"""

import pytest

# sim_server, sim, sim_env (star import: these names are fixtures, not variables)
from simulator.pytest_plugin import *  # noqa: F403
from tests.simulator.helpers import OWNER_COOKIE, QT_COOKIE, QT_QID, Vendor360


@pytest.fixture
def api(sim):
    """The 360 API as account "sid" (method 1 cookie)."""
    return Vendor360(sim.url, OWNER_COOKIE)


@pytest.fixture
def guest_api(sim):
    """The 360 API as account "qt" with its seed-derived SID (method 2 cookie)."""
    account = next(a for a in sim.control("GET", "360/accounts")["accounts"] if a["qid"] == QT_QID)
    return Vendor360(sim.url, f"{QT_COOKIE};sid={account['sid']}")


@pytest.fixture
def frozen(sim):
    """Simulated time stands still unless a test advances it."""
    sim.set_speed(0)
    return sim
