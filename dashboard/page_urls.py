from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("healthz", views.healthz, name="healthz"),
    path("history/", views.history, name="history"),
    path("history/export", views.history_export, name="history_export"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/map.png", views.run_map, name="run_map"),
    path("faults/", views.faults, name="faults"),
]
