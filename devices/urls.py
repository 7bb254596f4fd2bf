"""URLs of the devices app (namespace "devices"), assembled from one module per area."""

from devices import urls_accounts, urls_devices, urls_live, urls_sync

app_name = "devices"

urlpatterns = (
    urls_accounts.urlpatterns
    + urls_devices.urlpatterns
    + urls_sync.urlpatterns
    + urls_live.urlpatterns
)
