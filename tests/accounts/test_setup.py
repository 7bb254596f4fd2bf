"""First run: the first visitor creates the owner account and household; then it is gone."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Household, Membership, Role, User

SETUP = "/accounts/setup/"
STRONG = "a-long-robot-password-42"


def setup_data(**overrides):
    return {
        "username": "alice",
        "email": "",
        "password1": STRONG,
        "password2": STRONG,
        "household_name": "Home",
        "time_zone": "Europe/Berlin",
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/household/"])
def test_every_page_leads_a_fresh_install_to_setup(path):
    response = Client().get(path, follow=True)
    assert response.redirect_chain[-1][0] == SETUP
    assert "accounts/setup.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_setup_page_has_the_labelled_fields():
    html = Client().get(SETUP).content.decode()
    for field_id, label in [
        ("id_username", "Username"),
        ("id_password1", "Password"),
        ("id_household_name", "Household name"),
        ("id_password2", "Password confirmation"),
        ("id_time_zone", "Time zone"),
    ]:
        assert f'<label for="{field_id}">{label}</label>' in html
    assert '<option value="UTC" selected>UTC</option>' in html


@pytest.mark.django_db
def test_setup_creates_the_owner_and_household_and_signs_in():
    client = Client()
    response = client.post(SETUP, setup_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:overview")
    user = User.objects.get()
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    assert membership.household.name == "Home"
    assert membership.household.time_zone == "Europe/Berlin"
    assert user.check_password(STRONG)
    assert user.is_staff and user.is_superuser
    assert client.get(reverse("accounts:household")).status_code == 200


@pytest.mark.django_db
def test_setup_shows_errors_next_to_the_fields():
    response = Client().post(SETUP, setup_data(password2="something-else-9", household_name=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_password2_error"' in html
    assert 'id="id_household_name_error"' in html
    assert not User.objects.exists()


@pytest.mark.django_db
def test_setup_is_gone_once_someone_exists(alice):
    client = Client()
    assert client.get(SETUP)["Location"] == reverse("accounts:login")
    response = client.post(SETUP, setup_data(username="mallory"))
    assert response.status_code == 302
    assert not User.objects.filter(username="mallory").exists()
    assert Household.objects.count() == 1


@pytest.mark.django_db
def test_the_service_refuses_a_second_owner(alice):
    with pytest.raises(services.AlreadySetUp):
        services.set_up_first_owner(
            username="mallory",
            password=STRONG,
            email="",
            household_name="Mine",
            time_zone="UTC",
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_setups_create_one_owner(monkeypatch):
    # The first set-up pauses inside its transaction until the second has started, so
    # without the lock both would see "no user yet" and both would create an owner.
    first_inside = threading.Event()
    real_create = services.create_household

    def slow_create_household(**kwargs):
        if not first_inside.is_set():
            first_inside.set()
            threading.Event().wait(0.5)
        return real_create(**kwargs)

    monkeypatch.setattr(services, "create_household", slow_create_household)
    outcomes = []

    def set_up(username):
        try:
            services.set_up_first_owner(
                username=username,
                password=STRONG,
                email="",
                household_name=username,
                time_zone="UTC",
            )
            outcomes.append("created")
        except services.AlreadySetUp:
            outcomes.append("refused")
        finally:
            connection.close()

    first = threading.Thread(target=set_up, args=["first"])
    first.start()
    assert first_inside.wait(5)
    second = threading.Thread(target=set_up, args=["second"])
    second.start()
    first.join(30)
    second.join(30)

    assert sorted(outcomes) == ["created", "refused"]
    assert list(User.objects.values_list("username", flat=True)) == ["first"]
    assert Membership.objects.filter(role=Role.OWNER).count() == 1


@pytest.mark.django_db
def test_time_zones_are_grouped_by_region_with_places_by_name():
    html = Client().get(SETUP).content.decode()
    assert '<optgroup label="Europe">' in html
    assert '<option value="Europe/Berlin">Berlin</option>' in html
    assert (
        '<option value="America/Argentina/Buenos_Aires">Buenos Aires (Argentina)</option>' in html
    )


@pytest.mark.django_db
def test_setup_says_what_the_email_is_for():
    html = Client().get(SETUP).content.decode()
    assert "Only used to send you a link if you forget your password." in html
