"""Bad input never becomes a 500: hypothesis-generated create bodies, PATCH bodies and list queries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compute_image.conftest import PATCH_V20, PATCH_V21

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

KEYS = st.sampled_from(
    [
        "name",
        "id",
        "visibility",
        "protected",
        "os_hidden",
        "disk_format",
        "container_format",
        "min_disk",
        "min_ram",
        "tags",
        "owner",
        "status",
        "size",
        "checksum",
        "self",
        "locations",
        "os_glance_x",
        "custom",
        "os_distro",
        "nefos:os_params",
        "",
    ]
) | st.text(max_size=300)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
PATHS = st.sampled_from(
    [
        "/name",
        "/tags",
        "/min_ram",
        "/visibility",
        "/protected",
        "/id",
        "/x",
        "/a/b",
        "x",
        "/",
        "//",
        "/~",
        "/~1",
        "/locations",
        "/os_glance_a",
        "/owner",
        "/custom",
    ]
) | st.text(max_size=30)
OPS_V21 = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "op": st.sampled_from(["add", "remove", "replace", "move"]) | VALUES,
            "path": PATHS | VALUES,
            "value": VALUES,
        },
    ),
    max_size=4,
)
OPS_V20 = st.lists(
    st.dictionaries(st.sampled_from(["add", "remove", "replace", "value", "op"]), PATHS | VALUES, max_size=3),
    max_size=4,
)


def assert_not_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@FUZZ
@given(body=st.dictionaries(KEYS, VALUES, max_size=6) | VALUES)
def test_create_never_fails_with_500_when_body_is_arbitrary(glance, body):
    assert_not_server_error(glance.post("/images", body))


@FUZZ
@given(ops=OPS_V21 | VALUES)
def test_patch_v21_never_fails_with_500_when_body_is_arbitrary(glance, ops):
    image = glance.create(name="fuzz", os_distro="x")
    assert_not_server_error(glance.patch(f"/images/{image['id']}", json.dumps(ops), PATCH_V21))


@FUZZ
@given(ops=OPS_V20)
def test_patch_v20_never_fails_with_500_when_body_is_arbitrary(glance, ops):
    image = glance.create(name="fuzz")
    assert_not_server_error(glance.patch(f"/images/{image['id']}", json.dumps(ops), PATCH_V20))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "status",
                "visibility",
                "member_status",
                "limit",
                "marker",
                "sort",
                "sort_key",
                "sort_dir",
                "size_min",
                "size_max",
                "size",
                "tag",
                "owner",
                "id",
                "protected",
                "os_hidden",
                "created_at",
                "updated_at",
                "disk_format",
                "prop",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
        max_size=5,
    )
)
def test_list_never_fails_with_500_when_query_is_arbitrary(glance, params):
    assert_not_server_error(glance.get(f"/images?{urlencode(params)}"))


@FUZZ
@given(
    member=VALUES,
    status=VALUES,
    tag=st.text(min_size=1, max_size=300).filter(lambda t: "\x00" not in t and "/" not in t),
)
def test_members_and_tags_never_fail_with_500_when_input_is_arbitrary(glance, member, status, tag):
    image = glance.create()
    assert_not_server_error(glance.post(f"/images/{image['id']}/members", {"member": member}))
    assert_not_server_error(glance.put_json(f"/images/{image['id']}/members/{glance.project.pk}", {"status": status}))
    from urllib.parse import quote

    url = f"/image/v2/images/{image['id']}/tags/{quote(tag)}"
    assert_not_server_error(glance.client.put(url, HTTP_X_AUTH_TOKEN=glance.token))
