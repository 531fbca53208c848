"""Sign-in, sign-up, sign-out and password change pages."""

from __future__ import annotations

import pytest
from django.test import Client

from identity.models import User
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db


GOOD = {"email": "eve@example.org", "password1": "long-secret", "password2": "long-secret"}


def _login(client: Client, name: str, password: str = PASSWORD):
    return client.post("/login/", {"username": name, "password": password})


def test_login_page_renders_when_anonymous(portal_setup):
    response = Client().get("/login/")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content


def test_dashboard_redirects_to_login_when_anonymous(portal_setup):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_login_succeeds_when_user_active(alice):
    client = Client()
    response = _login(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_says_waiting_when_user_pending(portal_setup):
    UserFactory(name="newbie", status=User.Status.PENDING)
    response = _login(Client(), "newbie")
    assert response.status_code == 200
    assert b"waiting for an administrator" in response.content


def test_login_says_disabled_when_user_disabled(portal_setup):
    UserFactory(name="gone", status=User.Status.DISABLED)
    response = _login(Client(), "gone")
    assert b"has been disabled" in response.content


def test_login_hides_status_when_password_wrong(portal_setup):
    UserFactory(name="newbie", status=User.Status.PENDING)
    response = _login(Client(), "newbie", "wrong-password")
    assert b"waiting for an administrator" not in response.content
    assert b"correct" in response.content


def test_signup_creates_pending_user_when_auto_activation_off(portal_setup, settings):
    settings.PORTAL_SIGNUP_AUTO_ACTIVATE = False
    data = {"name": "carol", "email": "carol@example.org", "password1": "long-secret", "password2": "long-secret"}
    response = Client().post("/signup/", data)
    assert response.status_code == 200
    assert b"waiting for an administrator" in response.content
    user = User.objects.get(name="carol")
    assert user.status == User.Status.PENDING
    assert user.check_password("long-secret")
    assert user.default_project is None


def test_signup_activates_user_when_auto_activation_on(portal_setup, settings):
    settings.PORTAL_SIGNUP_AUTO_ACTIVATE = True
    data = {"name": "dave", "email": "dave@example.org", "password1": "long-secret", "password2": "long-secret"}
    response = Client().post("/signup/", data)
    assert b"Your account is active" in response.content
    user = User.objects.get(name="dave")
    assert user.status == User.Status.ACTIVE
    assert user.default_project is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "name": "eve", "password2": "other-secret"}, b"match"),
        ({**GOOD, "name": "eve", "password1": "abc", "password2": "abc"}, b"too short"),
        ({**GOOD, "name": "eve", "email": "not-an-email"}, b"Enter a valid email address"),
        ({**GOOD, "name": "alice"}, b"taken"),
    ],
)
def test_signup_shows_error_when_input_invalid(alice, data, message):
    response = Client().post("/signup/", data)
    assert response.status_code == 200
    assert message in response.content
    assert not User.objects.filter(name="eve").exists()


def test_signup_form_has_csrf_protection(portal_setup):
    client = Client(enforce_csrf_checks=True)
    data = {"name": "carol", "email": "carol@example.org", "password1": "long-secret", "password2": "long-secret"}
    assert client.post("/signup/", data).status_code == 403
    assert not User.objects.filter(name="carol").exists()


def test_password_change_keeps_session_when_old_password_right(alice, alice_client):
    data = {"old_password": PASSWORD, "new_password1": "new-secret", "new_password2": "new-secret"}
    response = alice_client.post("/password/", data)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("new-secret")
    assert alice_client.get("/").status_code == 200


def test_password_change_refused_when_old_password_wrong(alice, alice_client):
    data = {"old_password": "nope", "new_password1": "new-secret", "new_password2": "new-secret"}
    response = alice_client.post("/password/", data)
    assert response.status_code == 200
    assert b"current password is not correct" in response.content
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_logout_ends_session_when_posted(alice):
    client = login(alice)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_signup_is_audited_when_user_created(portal_setup):
    data = {"name": "frank", "email": "frank@example.org", "password1": "long-secret", "password2": "long-secret"}
    Client().post("/signup/", data)
    assert AuditEvent.objects.filter(action="user.signup", actor_name="frank").exists()
