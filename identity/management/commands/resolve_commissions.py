"""`manage.py resolve_commissions`: settle stale quota commissions now (what the periodic task does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from identity.services import quotas


class Command(BaseCommand):
    """Accept, reject or leave each stale pending commission, as its client's resolver decides."""

    help = "Settle quota commissions pending longer than PORTAL_COMMISSION_TIMEOUT (or --older-than seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; change nothing.")
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Consider commissions pending at least this long (default: PORTAL_COMMISSION_TIMEOUT).",
        )

    def handle(self, *args: object, **options: object) -> None:
        counts = quotas.resolve_pending(options["older_than"], dry_run=bool(options["dry_run"]))
        prefix = "would settle" if options["dry_run"] else "settled"
        summary = ", ".join(f"{key} {value}" for key, value in counts.items())
        self.stdout.write(f"{prefix}: {summary}")
