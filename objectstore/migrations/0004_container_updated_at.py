"""Container.updated_at: Swift's put timestamp (container PUT and POST move it); existing rows start at created_at."""

import django.utils.timezone
from django.db import migrations, models


def copy_created_at(apps, schema_editor) -> None:
    """Existing containers were last put when they were created."""
    container = apps.get_model("objectstore", "Container")
    container.objects.update(updated_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("objectstore", "0003_pithos")]

    operations = [
        migrations.AddField(
            model_name="container",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(copy_created_at, migrations.RunPython.noop),
    ]
