"""The connections page, at /connections/ (assistant/urls.py includes this module)."""

from django.urls import path

from connectors.google_calendar import views as google
from connectors.views import connections, events, files, passages, uploads

app_name = "connectors"

urlpatterns = [
    path("", connections.index, name="index"),
    path("add/<slug:kind>", connections.add, name="add"),
    path("<int:pk>/", connections.detail, name="detail"),
    path("<int:pk>/status", connections.status, name="status"),
    path("<int:pk>/sources", connections.sources_update, name="sources"),
    path("<int:pk>/sync", connections.sync_now, name="sync"),
    path("<int:pk>/resume", connections.resume, name="resume"),
    path("<int:pk>/reconnect", connections.reconnect, name="reconnect"),
    path("<int:pk>/disconnect", connections.disconnect, name="disconnect"),
    path("<int:pk>/files/", files.files, name="files"),
    path("<int:pk>/files/<int:document_pk>/reindex", files.file_reindex, name="file-reindex"),
    path("<int:pk>/files/<int:document_pk>/delete", uploads.file_delete, name="file-delete"),
    path("<int:pk>/uploads/status", uploads.status, name="uploads-status"),
    path("uploads/", uploads.start, name="uploads-start"),
    path("uploads/add", uploads.add, name="uploads-add"),
    path("events/<int:pk>/", events.detail, name="event"),
    path("passages/<int:pk>/", passages.detail, name="passage"),
    path("google/start", google.oauth_start, name="google-start"),
    path("google/drive/start", google.drive_start, name="google-drive-start"),
    path("google/callback", google.oauth_callback, name="google-callback"),
]
