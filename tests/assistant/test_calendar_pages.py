"""The account page, the event page, and who may open what: every calendar URL is the
owner's (outsiders get 404, anonymous visitors the login page)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from assistant.account_models import AccountSettings, EventProposal
from assistant.models import Conversation, Message
from tests.calendar_factories import calendar_create, event_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(owner):
    return event_add(calendar_create(owner), "Dentist <b>check</b>",
                     datetime(2026, 12, 3, 8, tzinfo=UTC), location="Main St 4",
                     attendees=["Dr. Who"], description="Bring the card.")  # fmt: skip


@pytest.fixture
def proposal(owner):
    conversation = Conversation.objects.create(owner=owner)
    answer = Message.objects.create(conversation=conversation, role="assistant", content="ok")
    return EventProposal.objects.create(
        owner=owner, answer=answer, title="Lunch", time_zone="UTC",
        start=datetime(2030, 1, 4, 13, tzinfo=UTC), end=datetime(2030, 1, 4, 14, tzinfo=UTC),
    )  # fmt: skip


def urls(event, proposal):
    return [
        ("get", reverse("account")),
        ("post", reverse("account")),
        ("get", reverse("connectors:event", args=[event.pk])),
        ("post", reverse("proposal-confirm", args=[proposal.pk])),
        ("get", reverse("proposal-edit", args=[proposal.pk])),
        ("post", reverse("proposal-edit", args=[proposal.pk])),
        ("post", reverse("proposal-cancel", args=[proposal.pk])),
    ]


def test_anonymous_visitors_go_to_the_login_page(client, event, proposal):
    for method, url in urls(event, proposal):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_outsiders_get_404_and_change_nothing(outsider_client, event, proposal):
    for method, url in urls(event, proposal)[2:]:  # the account page is everyone's own
        response = getattr(outsider_client, method)(url, {"title": "Hijacked", "day": "2030-01-05"})
        assert response.status_code == 404, url
    proposal.refresh_from_db()
    assert (proposal.status, proposal.title) == ("proposed", "Lunch")


def test_owner_opens_the_event_page_in_the_events_own_zone(owner_client, event):
    event.time_zone = "Europe/Berlin"
    event.save()
    page = owner_client.get(reverse("connectors:event", args=[event.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Dentist &lt;b&gt;check&lt;/b&gt;" in text  # escaped
    assert "Main St 4" in text and "Dr. Who" in text and "Bring the card." in text
    assert "Personal" in text
    assert "09:00" in text and "Europe/Berlin" in text  # 08:00 UTC, as the calendar wrote it


def test_owner_opens_the_proposal_edit_form(owner_client, proposal):
    page = owner_client.get(reverse("proposal-edit", args=[proposal.pk]))
    assert page.status_code == 200 and b'value="Lunch"' in page.content


def test_account_page_saves_zone_hours_and_days(owner_client, owner):
    page = owner_client.get(reverse("account"))
    assert page.status_code == 200
    assert b'<option value="Europe/Berlin"' in page.content and b"account.js" in page.content

    data = {"time_zone": "America/New_York", "work_start": "08:30", "work_end": "16:00",
            "work_days": [0, 1, 2, 3]}  # fmt: skip
    saved = owner_client.post(reverse("account"), data)
    assert saved.status_code == 200 and b"Saved." in saved.content
    account = AccountSettings.objects.get(user=owner)
    assert account.time_zone == "America/New_York"
    assert (account.work_start, account.work_end) == (time(8, 30), time(16))
    assert account.work_days == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"time_zone": "Mars/Olympus", "work_start": "09:00", "work_end": "17:00",
          "work_days": [0]}, b"Select a valid choice"),
        ({"time_zone": "UTC", "work_start": "17:00", "work_end": "09:00", "work_days": [0]},
         b"must end after it starts"),
        ({"time_zone": "UTC", "work_start": "09:00", "work_end": "17:00"},
         b"Pick at least one working day"),
    ],
)  # fmt: skip
def test_account_page_rejects_nonsense(owner_client, owner, data, error):
    response = owner_client.post(reverse("account"), data)
    assert response.status_code == 400 and error in response.content
    assert not AccountSettings.objects.filter(user=owner).exists()


def test_chat_sidebar_links_the_account_page(owner_client):
    page = owner_client.get(reverse("chat:home"))
    assert reverse("account").encode() in page.content
