"""The memory page, at /memory/ (assistant/urls.py includes this module)."""

from django.urls import path

from memory.views import items, page, review, transfer

app_name = "memory"

urlpatterns = [
    path("", page.index, name="index"),
    path("add", page.add, name="add"),
    path("settings", page.settings_update, name="settings"),
    path("inbox", page.inbox, name="inbox"),
    path("review", review.bulk, name="review-bulk"),
    path("export", transfer.export, name="export"),
    path("import", transfer.import_, name="import"),
    path("forget-all", transfer.forget_all, name="forget-all"),
    path("<int:pk>/", page.detail, name="detail"),
    path("<int:pk>/card", items.item, name="item"),
    path("<int:pk>/edit", items.edit, name="edit"),
    path("<int:pk>/pin", items.pin, name="pin"),
    path("<int:pk>/wrong", items.wrong, name="wrong"),
    path("<int:pk>/reactivate", items.reactivate, name="reactivate"),
    path("<int:pk>/forget", items.forget, name="forget"),
    path("<int:pk>/unforget", items.unforget, name="unforget"),
    path("<int:pk>/forget-permanently", items.forget_permanently, name="forget-permanently"),
    path("<int:pk>/history", items.history, name="history"),
    path("<int:pk>/revisions/<int:revision_pk>/restore", items.restore, name="restore"),
    path("<int:pk>/accept", review.accept, name="accept"),
    path("<int:pk>/reject", review.reject, name="reject"),
]
