"""`manage.py objectstore_gc`: purge expired objects, then collect unreferenced blocks now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from objectstore.services import gc, objects


class Command(BaseCommand):
    """Run the expirer and the block garbage collector once."""

    help = "Purge expired objects and delete unreferenced blocks older than the grace period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grace", type=float, default=None, help="Grace period in seconds (default: setting).")

    def handle(self, *args: object, **options: object) -> None:
        purged = objects.purge_expired()
        report = gc.collect_garbage(grace=options["grace"])  # type: ignore[arg-type]
        self.stdout.write(
            f"expired objects purged: {purged}; blocks scanned: {report.scanned}, "
            f"candidates: {report.candidates}, deleted: {report.deleted}"
        )
