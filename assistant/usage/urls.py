"""URLs of this part (filled in by its views)."""

from django.urls import URLPattern

app_name = "usage"
urlpatterns: list[URLPattern] = []
