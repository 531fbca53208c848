"""`manage.py scrub_blocks [--dry-run] [--limit N]`: re-hash stored blocks and quarantine corrupt ones."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from objectstore.services import scrub

MiB = 1024 * 1024


class Command(BaseCommand):
    """Run the block scrub once and print what it found; exit status 1 when a block is corrupt."""

    help = (
        "Re-hash stored blocks against their names. A corrupt block is moved to the quarantine "
        "directory (never deleted) and logged; reads of objects using it then fail with a 503."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Hash and report only: move nothing, record nothing."
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Check at most N blocks, those verified longest ago first."
        )

    def handle(self, *args: object, **options: object) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:  # type: ignore[operator]
            raise CommandError("--limit must be a positive number of blocks")
        report = scrub.scrub_blocks(limit=limit, dry_run=bool(options["dry_run"]))  # type: ignore[arg-type]
        for digest, where in report.corrupt.items():
            action = "left in place (dry run)" if report.dry_run else f"quarantined to {where}"
            self.stdout.write(f"CORRUPT {digest} {action}")
            users = report.users.get(digest, [])
            for user in users:
                self.stdout.write(f"  used by {user}")
            if len(users) >= scrub.MAX_USERS_LISTED:
                self.stdout.write(f"  (first {scrub.MAX_USERS_LISTED} versions listed)")
        self.stdout.write(
            f"checked {report.checked} blocks ({report.bytes_read / MiB:.1f} MiB) in {report.seconds:.1f} s: "
            f"{report.ok} ok, {len(report.corrupt)} corrupt, {report.missing} missing"
            + ("; dry run: nothing moved or recorded" if report.dry_run else "")
        )
        if report.corrupt:
            raise CommandError(f"{len(report.corrupt)} corrupt block(s) found")
