"""Pages without login: the self-service FAQ, its feedback, the contact form (with its
captcha challenge) and the satisfaction survey by signed link. They show no customer data."""

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError

from . import care, knowledge
from .models import TicketType
from .public import PUBLIC_TYPES, captcha_challenge, public_contact_submit


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@require_GET
def help_view(request):
    q = request.GET.get("q", "")[:100]
    articles = knowledge.article_search(q=q, published_only=True, limit=30)
    language = get_language() or "zh-hans"
    items = [(a, a.title_for(language)) for a in articles]
    return render(request, "service/public/help.html", {"q": q, "items": items})


@require_GET
def help_article_view(request, pk: int):
    article = knowledge.article_get(pk=pk, published_only=True)
    language = get_language() or "zh-hans"
    return render(
        request,
        "service/public/article.html",
        {
            "article": article,
            "title": article.title_for(language),
            "body": article.body_for(language),
            "answered": request.GET.get("thanks"),
        },
    )


@require_POST
def help_feedback_view(request, pk: int):
    helpful = request.POST.get("helpful") == "yes"
    knowledge.article_feedback(article_id=pk, helpful=helpful)
    if helpful:
        return redirect(f"{request.path.removesuffix('feedback/')}?thanks=yes")
    return redirect("service_public:contact")


@never_cache
@require_GET
def captcha_challenge_view(request):
    return JsonResponse(captcha_challenge())


@require_http_methods(["GET", "POST"])
def contact_view(request):
    values = {k: request.POST.get(k, "") for k in ("name", "phone", "email", "message", "type")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            ticket = public_contact_submit(
                address=_client_address(request),
                data=values,
                captcha=request.POST.get("altcha", ""),
            )
            return render(request, "service/public/contact_done.html", {"number": ticket.pk})
        except DomainError as exc:
            for error in exc.errors or []:
                name = "form" if error.field == "__all__" else error.field
                errors.setdefault(name, str(error.message))
            if not exc.errors:
                errors["form"] = str(exc.message)
    types = [(t, TicketType(t).label) for t in PUBLIC_TYPES]
    return render(
        request,
        "service/public/contact.html",
        {"values": values, "errors": errors, "types": types},
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def survey_view(request, token: str):
    try:
        ticket = care.survey_ticket(token)
    except DomainError as exc:
        return render(request, "service/public/survey.html", {"error": exc.message}, status=400)
    error = None
    if hasattr(ticket, "survey"):
        return render(request, "service/public/survey.html", {"done": True})
    if request.method == "POST":
        try:
            care.survey_submit(
                token=token,
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
            return render(request, "service/public/survey.html", {"done": True})
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "service/public/survey.html",
        {
            "subject": ticket.subject,
            "number": ticket.pk,
            "error": error,
            "scores": [
                (5, _("Very satisfied")),
                (4, _("Satisfied")),
                (3, _("Neutral")),
                (2, _("Dissatisfied")),
                (1, _("Very dissatisfied")),
            ],
        },
        status=422 if error else 200,
    )
