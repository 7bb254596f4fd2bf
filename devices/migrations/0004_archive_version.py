"""ArchiveVersion: per device, a random stamp replaced by every write to its runs, for
the reports' cache keys (dashboard.report_cache). Random, not a counter: a device id
that is used again (SQLite reuses the highest id after a delete) or a rolled-back
transaction can never bring back a stamp that a cached rendering was keyed on.

Kept by triggers on devices_run: row triggers on SQLite (an in-place update costs
microseconds), statement triggers with transition tables on Postgres (one new stamp per
statement: a row trigger would update one row thousands of times in a first import's
transaction)."""

import django.db.models.deletion
from django.db import migrations, models

BUMP_NEW = """INSERT INTO devices_archiveversion (device_id, version)
    VALUES (NEW.device_id, random())
    ON CONFLICT (device_id) DO UPDATE SET version = excluded.version;"""
BUMP_OLD = "UPDATE devices_archiveversion SET version = random() WHERE device_id = OLD.device_id;"
PG_RANDOM = "floor(random() * 9007199254740991)::bigint"
SEED = """INSERT INTO devices_archiveversion (device_id, version)
    SELECT device_id, {random} FROM (SELECT DISTINCT device_id FROM devices_run) present"""
SQLITE = [
    f"CREATE TRIGGER devices_run_version_insert AFTER INSERT ON devices_run BEGIN {BUMP_NEW} END",
    f"CREATE TRIGGER devices_run_version_update AFTER UPDATE ON devices_run BEGIN {BUMP_OLD} {BUMP_NEW} END",
    f"CREATE TRIGGER devices_run_version_delete AFTER DELETE ON devices_run BEGIN {BUMP_OLD} END",
    SEED.format(random="random()"),
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS devices_run_version_{event}" for event in ("insert", "update", "delete")
]

POSTGRES = [
    f"""
CREATE FUNCTION devices_run_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE devices_archiveversion SET version = {PG_RANDOM}
        WHERE device_id IN (SELECT device_id FROM old_runs);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO devices_archiveversion (device_id, version)
        SELECT device_id, {PG_RANDOM} FROM (SELECT DISTINCT device_id FROM new_runs) changed
        ON CONFLICT (device_id) DO UPDATE SET version = excluded.version;
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER devices_run_version_insert AFTER INSERT ON devices_run
       REFERENCING NEW TABLE AS new_runs
       FOR EACH STATEMENT EXECUTE FUNCTION devices_run_version()""",
    """CREATE TRIGGER devices_run_version_update AFTER UPDATE ON devices_run
       REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs
       FOR EACH STATEMENT EXECUTE FUNCTION devices_run_version()""",
    """CREATE TRIGGER devices_run_version_delete AFTER DELETE ON devices_run
       REFERENCING OLD TABLE AS old_runs
       FOR EACH STATEMENT EXECUTE FUNCTION devices_run_version()""",
    SEED.format(random=PG_RANDOM),
]
POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS devices_run_version_{event} ON devices_run"
        for event in ("insert", "update", "delete")
    ),
    "DROP FUNCTION IF EXISTS devices_run_version()",
]


def _run(schema_editor, statements: dict) -> None:
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRES})


def drop_triggers(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0003_run_day_totals"),
    ]

    operations = [
        migrations.CreateModel(
            name="ArchiveVersion",
            fields=[
                (
                    "device",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="devices.device",
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
