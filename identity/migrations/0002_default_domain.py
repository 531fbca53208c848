"""Create the Default domain every user and project belongs to."""

from django.db import migrations


def create_default_domain(apps, schema_editor):
    Domain = apps.get_model("identity", "Domain")
    Domain.objects.get_or_create(id="default", defaults={"name": "Default", "description": "The default domain"})


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_initial")]
    operations = [migrations.RunPython(create_default_domain, migrations.RunPython.noop)]
