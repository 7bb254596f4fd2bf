"""`manage.py demo_setup` (run by `make run`): the demo household on the first start, linked
through the normal services, idempotent, and never next to real vendor clouds."""

# Fixtures are imported from test_linking_fixtures (no conftest of our own here).
# ruff: noqa: F811

import io
import socket
import stat

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Household, Membership, Role, User
from devices.models import CloudAccount, Device, LinkMethod
from tests.conftest import PASSWORD
from tests.devices.test_linking_fixtures import BASE_URLS, cloud, sync_calls  # noqa: F401


@pytest.fixture
def data_dir(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def run_demo_setup() -> str:
    out = io.StringIO()
    call_command("demo_setup", "--wait", "1", stdout=out)
    return out.getvalue()


def point_at(settings, url: str) -> None:
    for name in BASE_URLS:
        setattr(settings, name, url)


def test_it_refuses_to_run_against_real_vendor_clouds(db, data_dir):
    with pytest.raises(CommandError, match="only runs against the local simulator"):
        run_demo_setup()
    assert not User.objects.exists()


def test_it_refuses_a_simulator_split_over_several_origins(db, data_dir, settings):
    point_at(settings, "http://127.0.0.1:8900")
    settings.MAMMOTION_AUTH_URL = "http://127.0.0.1:8901"
    with pytest.raises(CommandError, match="one simulator origin"):
        run_demo_setup()


def test_the_first_start_creates_the_demo_household_and_links_the_simulator(
    cloud, data_dir, sync_calls
):
    output = run_demo_setup()

    household = Household.objects.get()
    assert (household.name, household.time_zone) == ("Demo home", "Europe/Berlin")
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"demo-owner": Role.OWNER, "demo-viewer": Role.VIEWER}
    for username in ("demo-owner", "demo-viewer"):
        path = data_dir / f"{username}.password"
        password = path.read_text().strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert User.objects.get(username=username).check_password(password)
        assert f"{username}   password {password}" in output or password in output
    methods = set(CloudAccount.objects.values_list("method", flat=True))
    assert methods == {
        LinkMethod.QIHOO360_SID,
        LinkMethod.QIHOO360_QT,
        LinkMethod.MAMMOTION_OPEN_API,
    }
    assert Device.objects.count() == 4 + 1 + 4
    assert len(sync_calls) == 3 and {trigger for _, trigger in sync_calls} == {"link"}
    assert "http://127.0.0.1:8000" in output and "Ctrl-C" in output
    assert "Found 4 machines." in output


def test_running_it_again_creates_nothing_and_prints_the_same_logins(cloud, data_dir, sync_calls):
    first = run_demo_setup()
    requests_before = len(cloud.requests())

    second = run_demo_setup()

    assert User.objects.count() == 2 and CloudAccount.objects.count() == 3
    assert len(cloud.requests()) == requests_before  # no vendor call at all
    password = (data_dir / "demo-owner.password").read_text().strip()
    assert password in first and password in second


def test_a_deleted_password_file_gets_a_new_password(cloud, data_dir, sync_calls):
    run_demo_setup()
    (data_dir / "demo-viewer.password").unlink()
    output = run_demo_setup()
    password = (data_dir / "demo-viewer.password").read_text().strip()
    assert User.objects.get(username="demo-viewer").check_password(password)
    assert password in output


def test_an_installation_with_its_own_users_gets_no_demo(cloud, data_dir, sync_calls):
    User.objects.create_user("ada", "", PASSWORD)
    output = run_demo_setup()
    assert "Sign in with the account you created earlier." in output
    assert not Household.objects.exists() and not CloudAccount.objects.exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_without_a_running_simulator_it_starts_one_for_the_moment(
    db, data_dir, settings, sync_calls
):
    port = free_port()
    point_at(settings, f"http://127.0.0.1:{port}")

    output = run_demo_setup()

    assert CloudAccount.objects.count() == 3 and Device.objects.count() == 9
    assert "Linked Mammotion mowers." in output
    api = CloudAccount.objects.get(method=LinkMethod.MAMMOTION_OPEN_API)
    assert "tokens" not in api.credentials()  # the temporary simulator's tokens are dropped
    with socket.socket() as probe:  # stopped again: the real one can take the port
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert (data_dir / "demo-setup-done").exists()
