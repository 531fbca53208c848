"""Public links: a random token that serves an object's current version to anyone, without auth.

The token belongs to the object's name: it follows overwrites and dies with a delete or a revoke.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from objectstore.models import Container, Object, ObjectVersion, PublicLink
from objectstore.services.containers import live_objects_q
from portal import audit
from portal.errors import NotFound

PUBLIC_PREFIX = "/public/"
MAX_TOKEN = 64


@transaction.atomic
def set_public(container: Container, name: str, public: bool, *, actor: Any) -> str | None:
    """Publish (keeping an existing token) or revoke the object's link; returns the token or None."""
    obj = Object.objects.select_for_update().filter(container=container, name=name).filter(live_objects_q()).first()
    if obj is None:
        raise NotFound("The resource could not be found.")
    link = PublicLink.objects.filter(object=obj).first()
    if not public:
        if link is not None:
            link.delete()
            audit.record(actor, "objectstore.object.unpublish", obj, project_id=container.project_id)
        return None
    if link is None:
        link = PublicLink.objects.create(object=obj, token=secrets.token_urlsafe(24))
        audit.record(actor, "objectstore.object.publish", obj, project_id=container.project_id)
    return link.token


def token_of(container: Container, name: str) -> str | None:
    """The public token of an object, or None when it is private."""
    links = PublicLink.objects.filter(object__container=container, object__name=name)
    return links.values_list("token", flat=True).first()


def public_path(token: str) -> str:
    """The URL path that serves a public token."""
    return f"{PUBLIC_PREFIX}{token}"


def resolve(token: str) -> ObjectVersion:
    """The current, unexpired version behind a public token (NotFound otherwise)."""
    if not token or len(token) > MAX_TOKEN:
        raise NotFound("The resource could not be found.")
    link = PublicLink.objects.filter(token=token).select_related("object__container__project").first()
    if link is None or not link.object.container.project.enabled:
        raise NotFound("The resource could not be found.")
    version = ObjectVersion.objects.live().filter(current_of=link.object).first()
    if version is None:
        raise NotFound("The resource could not be found.")
    return version
