"""Sign in, sign out, sign up and change one's password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from identity.services import users
from identity.ui.forms import LoginForm, PasswordChangeForm, SignupForm
from portal.errors import Conflict, DomainError, Unauthorized
from portal.ui.nav import render_page


class LoginView(auth_views.LoginView):
    """Django's login view with a form that explains pending and disabled accounts."""

    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Django's logout view (POST only), back to the login page."""


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account; it waits for an administrator unless sign-ups are auto-activated."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = users.signup(data["name"], data["email"], data["password1"])
        except Conflict:
            form.add_error("name", "This name is taken; please choose another.")
        except DomainError as exc:
            form.add_error("password1" if "password" in exc.message.lower() else None, exc.message)
        else:
            return render(request, "registration/signup_done.html", {"new_user": user})
    return render(request, "registration/signup.html", {"form": form})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password; this session stays signed in, API tokens are revoked."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = users.change_own_password(
                request.user, form.cleaned_data["old_password"], form.cleaned_data["new_password1"]
            )
        except Unauthorized:
            form.add_error("old_password", "Your current password is not correct.")
        except DomainError as exc:
            form.add_error("new_password1", exc.message)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password has been changed.")
            return redirect("home")
    return render_page(request, "registration/password_change.html", {"form": form})
