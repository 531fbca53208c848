"""django-filter filter sets of the admin pages."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from identity.models import Project, ProjectApplication, User


class UserFilter(django_filters.FilterSet):
    """Filter users by status and by a part of their name or email address."""

    name = django_filters.CharFilter(method="filter_name", label="Name or email")
    status = django_filters.ChoiceFilter(choices=User.Status.choices, empty_label="Any status")

    class Meta:
        model = User
        fields = ["name", "status"]

    def filter_name(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        """Users whose name or email contains `value`."""
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


class ProjectFilter(django_filters.FilterSet):
    """Filter projects by a part of their name."""

    name = django_filters.CharFilter(lookup_expr="icontains", label="Name")

    class Meta:
        model = Project
        fields = ["name"]


class ApplicationFilter(django_filters.FilterSet):
    """Filter applications by state."""

    state = django_filters.ChoiceFilter(choices=ProjectApplication.State.choices, empty_label="Any state")

    class Meta:
        model = ProjectApplication
        fields = ["state"]
