"""Root URLconf. Each app has its own namespaced URLs."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("dashboard.page_urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("devices.urls")),
    path("admin/", admin.site.urls),
]
