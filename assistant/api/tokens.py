"""Personal API tokens: make, authenticate, revoke (keyword-only, <noun>_<verb>).

A token reads `rk_<prefix>_<secret>`; the prefix finds the row, the SHA-256 of the whole
token must match. A revoked or expired token fails at once (checked on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from assistant.api.models import ApiToken
from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import Membership, Role, Team, role_at_least

TOKEN_START = "rk_"
SCOPES = frozenset(ApiToken.Scope.values)
# last_used_at is written at most this often per token (not on every request).
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(Exception):
    """Why a request's token is refused: `status` 401 (no usable token) or 403 (a token
    that may not do this). `code` is stable for clients; the message is for people."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ApiPrincipal:
    """Who a request acts as: the token's user, and the team it reaches (if the token
    has a team scope and its user is still a member of that team, checked now)."""

    token: ApiToken
    user: User
    team: Team | None

    def has(self, scope: str) -> bool:
        scopes = set(self.token.scopes)
        # Writing directly includes writing for review.
        if scope == ApiToken.Scope.MEMORY_WRITE and ApiToken.Scope.MEMORY_WRITE_DIRECT in scopes:
            return True
        return scope in scopes

    def require(self, scope: str) -> None:
        if not self.has(scope):
            raise TokenError(403, "insufficient_scope", f"This token lacks the {scope} scope.")

    @property
    def shared_owner_ids(self) -> tuple[int, ...]:
        return (self.team.account_id,) if self.team is not None else ()


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def scopes_clean(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES)
    if unknown:
        raise ValueError(f"Unknown scope: {', '.join(unknown)}.")
    if not scopes:
        raise ValueError("Choose at least one scope.")
    return sorted(set(scopes))


@transaction.atomic
def token_create(
    *,
    user,
    name: str,
    scopes: list[str],
    team: Team | None = None,
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only its hash is kept). `team`: the
    `team:<id>` scope, for a team the user is a member of (ValueError otherwise). The
    audit log records it (name, prefix, scopes; never the secret) in the same transaction."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValueError("Give the token a name.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    _lifetime_check(expires_at)
    if team is not None and not Membership.objects.filter(team=team, user=user).exists():
        raise ValueError("You are not a member of that team.")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        team=team,
        name=name,
        prefix=prefix,
        secret_hash=_digest(raw),
        scopes=scopes_clean(scopes),
        expires_at=expires_at,
    )
    audit_record(
        action=AuditAction.TOKEN_CREATED, actor=user, team=team, owner=user, target=token,
        detail=_audit_detail(token), ip=ip,
    )  # fmt: skip
    return token, raw


def _lifetime_check(expires_at: datetime | None) -> None:
    """settings.API_TOKEN_MAX_DAYS (0: no limit): a token must expire within that many
    days (a day more of slack: an expiry date runs to the end of its day)."""
    max_days = settings.API_TOKEN_MAX_DAYS
    if not max_days:
        return
    if expires_at is None:
        raise ValueError(f"Tokens on this server must expire within {max_days} days.")
    if expires_at > timezone.now() + timedelta(days=max_days + 1):
        raise ValueError(f"Tokens on this server last at most {max_days} days.")


def _audit_detail(token: ApiToken) -> dict:
    detail = {"name": token.name, "prefix": token.prefix, "scopes": list(token.scopes)}
    if token.expires_at is not None:
        detail["expires_at"] = token.expires_at.isoformat(timespec="seconds")
    return detail


def _parse(raw: str) -> str:
    if not raw.startswith(TOKEN_START) or raw.count("_") < 2:
        raise TokenError(401, "invalid_token", "That is not an API token of this server.")
    return raw[len(TOKEN_START) :].split("_", 1)[0]


def token_authenticate(*, raw: str) -> ApiPrincipal:
    """The principal for a raw token (TokenError 401 when missing, unknown, revoked or
    expired). Notes when it was last used, at most once a minute."""
    if not raw:
        raise TokenError(401, "missing_token", "Send an API token: Authorization: Bearer rk_…")
    prefix = _parse(raw.strip())
    token = ApiToken.objects.select_related("user", "team").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(raw.strip())):
        raise TokenError(401, "invalid_token", "This API token is not valid.")
    if token.revoked_at is not None:
        raise TokenError(401, "revoked_token", "This API token was revoked.")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenError(401, "expired_token", "This API token has expired.")
    if not token.user.is_active:
        raise TokenError(401, "inactive_user", "The account of this API token is deactivated.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    team = None
    if token.team_id is not None:
        # A member no longer: the token keeps its personal reach, never the team's.
        is_member = Membership.objects.filter(team_id=token.team_id, user=token.user).exists()
        team = token.team if is_member else None
    return ApiPrincipal(token=token, user=token.user, team=team)


def token_revoke(*, token: ApiToken, by, ip: str | None = None) -> bool:
    """Revoke now (idempotent: False when it already was). Callers check that `by` may:
    the token's user, or an admin of the team it reaches (tokens_revocable_by). The audit
    log records it in the same transaction, on the team's log too when it reaches a team."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=by
        )
        if revoked:
            audit_record(
                action=AuditAction.TOKEN_REVOKED, actor=by, team=token.team, owner=token.user,
                target=token, detail=_audit_detail(token), ip=ip,
            )  # fmt: skip
    return bool(revoked)


def tokens_revocable_by(*, user) -> models.QuerySet[ApiToken]:
    """The tokens `user` may see and revoke: their own, and those reaching a team they
    administer."""
    admin_teams = [
        m.team_id for m in Membership.objects.filter(user=user) if role_at_least(m.role, Role.ADMIN)
    ]
    return ApiToken.objects.filter(models.Q(user=user) | models.Q(team_id__in=admin_teams))


def tokens_of_user(*, user) -> models.QuerySet[ApiToken]:
    """The user's own tokens, newest first (their teams with them, and whether the user is
    still a member of a token's team: a former member's token keeps only its personal reach)."""
    member = Membership.objects.filter(team=models.OuterRef("team"), user=user)
    return (
        ApiToken.objects.filter(user=user)
        .select_related("team", "revoked_by")
        .annotate(user_is_member=models.Exists(member))
    )


def tokens_of_team(*, team: Team) -> models.QuerySet[ApiToken]:
    """The tokens made with this team's scope, newest first, with their users and whether
    each user is still a member (a former member's token no longer reaches the team)."""
    member = Membership.objects.filter(team=team, user=models.OuterRef("user"))
    return (
        ApiToken.objects.filter(team=team)
        .select_related("user", "team", "revoked_by")
        .annotate(user_is_member=models.Exists(member))
    )
