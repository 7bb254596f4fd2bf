"""SyncRecord.trigger gets its choices, with "details" for the run details pass (a label
for each on the sync health pages). Choices only: no change to the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0004_archive_version'),
    ]

    operations = [
        migrations.AlterField(
            model_name='syncrecord',
            name='trigger',
            field=models.CharField(choices=[('schedule', 'Scheduled sync'), ('manual', 'Sync now'), ('link', 'Sync after linking'), ('run_finished', 'Sync after a run'), ('details', 'Run details and maps')], default='schedule', max_length=16),
        ),
    ]
