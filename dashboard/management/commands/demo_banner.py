"""Print where the dashboard is and how to sign in (used by `make run`)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the address of the dashboard and how to sign in."

    def handle(self, *args, **options):
        has_users = get_user_model().objects.exists()
        lines = [
            "",
            "Robot dashboard is starting at http://127.0.0.1:8000",
            "  Vendor clouds: the local simulator at " + settings.QIHOO360_API_URL,
        ]
        if has_users:
            lines.append("  Sign in with the account you created earlier.")
        else:
            lines.append("  First visit: create the owner account and your household.")
        lines.append("  Stop everything with Ctrl-C.")
        self.stdout.write("\n".join(lines) + "\n")
