"""The knowledge base: articles in Chinese and English, searchable by words and by pinyin
(全拼 and initials of the Chinese title), linked to tickets, with public "did this solve
it?" feedback whose "yes" counts as a deflected ticket."""

from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.customers.keys import fold, pinyin_keys

from .models import Article, Deflection, TicketArticle, TicketType
from .permissions import can_edit_articles, can_work
from .selectors import ticket_get

FIELDS = {"title_zh": 200, "title_en": 200, "body_zh": 20000, "body_en": 20000}
MAX_QUERY = 100


def _search_text(article: Article) -> str:
    full, initials = pinyin_keys(article.title_zh)
    parts = [article.title_zh, article.title_en, article.body_zh, article.body_en, full, initials]
    return fold(" ".join(parts)).lower()


def article_save(*, actor: User, data: dict, article_id: int | None = None) -> Article:
    if not can_edit_articles(actor):
        raise Forbidden(_("You may not edit the knowledge base."))
    errors = [
        FieldError(name, "too_long", _("At most %(n)s characters.") % {"n": limit})
        for name, limit in FIELDS.items()
        if len(data.get(name) or "") > limit
    ]
    for name in ("title_zh", "body_zh"):
        if not (data.get(name) or "").strip():
            errors.append(FieldError(name, "required", _("This field is required.")))
    if data.get("type") and data["type"] not in TicketType.values:
        errors.append(FieldError("type", "invalid_choice", _("Unknown ticket type.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        article = (
            Article.objects.select_for_update().filter(pk=article_id).first()
            if article_id
            else Article()
        )
        if article is None:
            raise NotFound(_("Article not found."))
        for name in (*FIELDS, "type", "published", "product"):
            if name in data:
                setattr(article, name, data[name].strip() if name in FIELDS else data[name])
        article.search_text = _search_text(article)
        article.updated_at = timezone.now()
        article.save()
        audit_record(
            actor=actor,
            verb="article.update" if article_id else "article.create",
            target=article,
            changes={"published": article.published},
        )
    return article


def article_search(*, q: str = "", published_only: bool = False, limit: int = 20) -> list:
    """Articles whose text or pinyin contains every word of `q` (e.g. "热水器", "reshuiqi",
    "rsq", "water heater"); most helpful first."""
    qs = Article.objects.all()
    if published_only:
        qs = qs.filter(published=True)
    words = fold(q[:MAX_QUERY]).lower().split()
    for word in words[:5]:
        qs = qs.filter(search_text__contains=word)
    return list(qs.order_by("-helpful_count", "-updated_at", "-id")[:limit])


def article_get(*, pk: int, published_only: bool = False) -> Article:
    qs = Article.objects.filter(published=True) if published_only else Article.objects.all()
    article = qs.filter(pk=pk).first()
    if article is None:
        raise NotFound(_("Article not found."))
    return article


def article_feedback(*, article_id: int, helpful: bool) -> None:
    """A visitor's "did this solve it?": counted on the article, and as a deflection."""
    with transaction.atomic():
        updated = Article.objects.filter(pk=article_id, published=True).update(
            **(
                {"helpful_count": F("helpful_count") + 1}
                if helpful
                else {"not_helpful_count": F("not_helpful_count") + 1}
            )
        )
        if not updated:
            raise NotFound(_("Article not found."))
        Deflection.objects.create(article_id=article_id, helpful=helpful)


def article_link(*, actor: User, ticket_id: int, article_id: int) -> TicketArticle:
    ticket = ticket_get(viewer=actor, pk=ticket_id)
    if not can_work(actor, ticket):
        raise Forbidden(_("You may not work on this ticket."))
    article = article_get(pk=article_id)
    with transaction.atomic():
        link, _created = TicketArticle.objects.get_or_create(
            ticket=ticket, article=article, defaults={"linked_by": actor}
        )
        audit_record(
            actor=actor, verb="ticket.article", target=ticket, changes={"article": article.pk}
        )
    return link


def deflection_counts(*, since: datetime) -> dict:
    """FAQ answers that solved the visitor's problem (no ticket needed) and those that did
    not, since `since`."""
    return Deflection.objects.filter(at__gte=since).aggregate(
        deflected=Count("id", filter=Q(helpful=True)),
        not_solved=Count("id", filter=Q(helpful=False)),
    )
