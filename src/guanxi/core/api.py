"""Account endpoints: who am I, and my API tokens."""

from datetime import datetime

from ninja import Router, Schema, Status
from pydantic import ConfigDict

from .models import ApiToken
from .services import token_create, token_revoke

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    org_unit: str | None


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=str(user),
        roles=sorted(user.role_set),
        org_unit=str(user.org_unit) if user.org_unit else None,
    )


class TokenIn(Strict):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    key: str


@router.get("/tokens", response=list[TokenOut])
def tokens_list(request):
    return list(ApiToken.objects.filter(user=request.user))


@router.post("/tokens", response={201: TokenCreatedOut})
def tokens_create(request, payload: TokenIn):
    token, raw = token_create(actor=request.user, name=payload.name)
    return Status(
        201,
        TokenCreatedOut(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=None,
            revoked_at=None,
            key=raw,
        ),
    )


@router.delete("/tokens/{token_id}", response=TokenOut)
def tokens_revoke(request, token_id: int):
    return token_revoke(actor=request.user, token_id=token_id)
