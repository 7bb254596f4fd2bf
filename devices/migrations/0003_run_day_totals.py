"""RunDay: per device and UTC day, the runs that started that day, summed. Kept by
triggers on devices_run (SQLite and Postgres), so every write of a run keeps it exact;
existing runs are summed once here."""

import django.db.models.deletion
from django.db import migrations, models

# The contribution of one run row (NEW or OLD) to its device's day.
SQLITE_DAY = "date({r}.started_at)"
SQLITE_MONTH = "date({r}.started_at, 'start of month')"
SQLITE_ADD = """
    INSERT INTO devices_runday (device_id, day, month, runs, area_m2, duration_s)
    SELECT NEW.device_id, {day}, {month}, 1, coalesce(NEW.area_m2, 0), coalesce(NEW.duration_s, 0)
    WHERE NEW.started_at IS NOT NULL
    ON CONFLICT (device_id, day) DO UPDATE SET
        runs = runs + 1,
        area_m2 = area_m2 + excluded.area_m2,
        duration_s = duration_s + excluded.duration_s;
""".format(day=SQLITE_DAY.format(r="NEW"), month=SQLITE_MONTH.format(r="NEW"))
SQLITE_SUBTRACT = """
    UPDATE devices_runday SET
        runs = runs - 1,
        area_m2 = area_m2 - coalesce(OLD.area_m2, 0),
        duration_s = duration_s - coalesce(OLD.duration_s, 0)
    WHERE OLD.started_at IS NOT NULL AND device_id = OLD.device_id AND day = {day};
""".format(day=SQLITE_DAY.format(r="OLD"))
SQLITE = [
    f"CREATE TRIGGER devices_run_day_insert AFTER INSERT ON devices_run BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER devices_run_day_delete AFTER DELETE ON devices_run BEGIN {SQLITE_SUBTRACT} END",
    "CREATE TRIGGER devices_run_day_update"
    " AFTER UPDATE OF device_id, started_at, area_m2, duration_s ON devices_run"
    f" BEGIN {SQLITE_SUBTRACT} {SQLITE_ADD} END",
    """INSERT INTO devices_runday (device_id, day, month, runs, area_m2, duration_s)
       SELECT device_id, date(started_at), date(started_at, 'start of month'), count(*),
              coalesce(sum(area_m2), 0), coalesce(sum(duration_s), 0)
       FROM devices_run WHERE started_at IS NOT NULL GROUP BY 1, 2, 3""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS devices_run_day_insert",
    "DROP TRIGGER IF EXISTS devices_run_day_delete",
    "DROP TRIGGER IF EXISTS devices_run_day_update",
]

POSTGRES = [
    """
CREATE FUNCTION devices_run_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.started_at IS NOT NULL THEN
        UPDATE devices_runday SET
            runs = runs - 1,
            area_m2 = area_m2 - coalesce(OLD.area_m2, 0),
            duration_s = duration_s - coalesce(OLD.duration_s, 0)
        WHERE device_id = OLD.device_id AND day = (OLD.started_at AT TIME ZONE 'UTC')::date;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.started_at IS NOT NULL THEN
        INSERT INTO devices_runday (device_id, day, month, runs, area_m2, duration_s)
        VALUES (NEW.device_id, (NEW.started_at AT TIME ZONE 'UTC')::date,
                date_trunc('month', NEW.started_at AT TIME ZONE 'UTC')::date, 1,
                coalesce(NEW.area_m2, 0), coalesce(NEW.duration_s, 0))
        ON CONFLICT (device_id, day) DO UPDATE SET
            runs = devices_runday.runs + 1,
            area_m2 = devices_runday.area_m2 + excluded.area_m2,
            duration_s = devices_runday.duration_s + excluded.duration_s;
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER devices_run_day
       AFTER INSERT OR DELETE OR UPDATE OF device_id, started_at, area_m2, duration_s
       ON devices_run FOR EACH ROW EXECUTE FUNCTION devices_run_day()""",
    """INSERT INTO devices_runday (device_id, day, month, runs, area_m2, duration_s)
       SELECT device_id, (started_at AT TIME ZONE 'UTC')::date,
              date_trunc('month', started_at AT TIME ZONE 'UTC')::date, count(*),
              coalesce(sum(area_m2), 0), coalesce(sum(duration_s), 0)
       FROM devices_run WHERE started_at IS NOT NULL GROUP BY 1, 2, 3""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS devices_run_day ON devices_run",
    "DROP FUNCTION IF EXISTS devices_run_day()",
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
        ("devices", "0002_device_renamed_locally"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("month", models.DateField()),
                ("runs", models.IntegerField(default=0)),
                ("area_m2", models.FloatField(default=0)),
                ("duration_s", models.BigIntegerField(default=0)),
                (
                    "device",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="devices.device",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["device", "month"], name="run_day_device_month")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("device", "day"), name="run_day_once_per_device"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
