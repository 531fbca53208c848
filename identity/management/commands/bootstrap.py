"""`manage.py bootstrap`: idempotently create the Default domain, roles, admin user and project,
the service catalog and the quota resources (like `keystone-manage bootstrap`), then let other
apps seed their defaults through `identity.signals.bootstrapped`."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from identity.models import DEFAULT_DOMAIN_ID, Domain, Project, Role, User
from identity.quota_registry import sync_resources
from identity.services import catalog, projects, quotas, roles, users
from identity.signals import bootstrapped


class Command(BaseCommand):
    help = "Create the Default domain, roles, admin user/project, catalog and quota resources (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-name", default=os.environ.get("PORTAL_ADMIN_NAME", "admin"))
        parser.add_argument("--admin-project", default=os.environ.get("PORTAL_ADMIN_PROJECT", "admin"))
        parser.add_argument("--region", default=settings.PORTAL_REGION)

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        password = os.environ.get("PORTAL_ADMIN_PASSWORD", "")
        Domain.objects.get_or_create(pk=DEFAULT_DOMAIN_ID, defaults={"name": "Default"})
        for name in roles.BUILTIN_ROLES:
            Role.objects.get_or_create(name=name)
        resources = sync_resources()

        admin = User.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name=options["admin_name"]).first()
        if admin is None:
            if not password:
                raise CommandError("PORTAL_ADMIN_PASSWORD must be set to create the admin user.")
            admin = users.create_user(options["admin_name"], password, actor=None, email="")
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            self.stdout.write(f"created admin user {admin.name}")
        elif password and not admin.check_password(password):
            users.update_user(admin, actor=None, password=password)
            self.stdout.write(f"reset the password of {admin.name}")

        project = Project.objects.filter(domain_id=DEFAULT_DOMAIN_ID, name=options["admin_project"]).first()
        if project is None:
            project = projects.create_project(options["admin_project"], actor=None, description="Administrators")
        for name in roles.BUILTIN_ROLES:
            roles.assign_role(admin, project, roles.get_role(name), actor=None)
        if admin.default_project_id is None:
            admin.default_project = project
            admin.save(update_fields=["default_project"])
        for each in Project.objects.all():
            quotas.ensure_holdings(each)
        endpoints = catalog.seed_catalog(options["region"])
        for receiver, result in bootstrapped.send(sender=self.__class__, admin_user=admin, admin_project=project):
            if result:
                self.stdout.write(f"{receiver.__module__}: {result}")
        self.stdout.write(
            f"bootstrap done: admin user {admin.name}, project {project.name}, {resources} quota resources, "
            f"{endpoints} endpoints in {options['region']}"
        )
