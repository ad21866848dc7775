"""Customer pages. Thin: forms in, services and selectors do the work."""

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import SHOWN_ON_PAGE, DomainError, NotFound, ValidationFailed
from guanxi.core.models import OrgUnit, Role, User
from guanxi.core.permissions import managed_units
from guanxi.core.timeline import timeline_for, timeline_kinds
from guanxi.core.visibility import can_create, can_edit, can_reveal, manages
from guanxi.core.web import attach_errors, is_htmx_partial, page_action

from . import bulk, regions, services, tasks
from .forms import FIELD_MAP, REGION_FIELDS, CustomerForm, ImportantDateForm, MergeForm
from .list_columns import (
    COLUMNS,
    NAME_COLUMN,
    clean_columns,
    column,
    header,
    list_preference,
    list_preference_save,
)
from .list_filters import list_filters
from .models import Customer, SavedView, Segment, Tag, display_phone
from .page_panels import customer_panels
from .permissions import colleague_units, filters_by_owner_and_unit
from .selectors import (
    CustomerFilter,
    customer_get,
    customer_list,
    customer_phones,
    find_duplicates,
)

TIMELINE_LIMIT = 100
# The 360° page shows the newest events; "Show more" loads up to TIMELINE_LIMIT (htmx).
TIMELINE_PAGE = 20
# What a salesperson's name in a select needs (User.__str__): not the whole row.
USER_NAME_FIELDS = ("id", "username", "display_name", "first_name", "last_name")


def _get_or_404(request, pk: int) -> Customer:
    return customer_get(viewer=request.user, pk=pk)


def _list_params(request):
    """The list's query: the user's remembered sort when the link names none (except for a
    typed search from elsewhere, ranked by how well each customer matches); a sort the link
    names becomes the remembered one."""
    params = request.GET.copy()
    pref = list_preference(request.user)
    sort = params.get("sort")
    if not sort and pref.sort and not params.get("q"):
        params["sort"] = pref.sort
    elif sort and sort != pref.sort and sort in CustomerFilter.SORTS:
        pref = list_preference_save(actor=request.user, sort=sort)
    return params, pref


@login_required
def customer_list_view(request):
    params, pref = _list_params(request)
    try:
        filters = CustomerFilter.from_params(params)
        page = customer_list(viewer=request.user, filters=filters, cursor=params.get("cursor"))
    except DomainError as exc:
        messages.error(request, exc.message)
        filters = CustomerFilter()
        page = customer_list(viewer=request.user, filters=filters)
    params.pop("cursor", None)
    unsorted = params.copy()
    unsorted.pop("sort", None)
    columns = [c for c in (column(k) for k in pref.columns) if c]
    context = {
        "page": page,
        "filters": filters,
        "base_query": params.urlencode(),
        "unsorted_query": unsorted.urlencode(),
        "columns": columns,
        "headers": {c.key: header(filters.sort, c) for c in columns if c.sort},
        "name_header": header(filters.sort, NAME_COLUMN),
        "can_bulk": bool(page.items),
        "inline_fields": INLINE_FIELDS,
        "filtered": replace(filters, sort=CustomerFilter.sort) != CustomerFilter(),
        "can_create": can_create(request.user),
    }
    if is_htmx_partial(request):
        return render(request, "customers/customer_list.html#customer_table", context)
    context.update(
        segments=Segment.objects.all(),
        stages=Customer.Stage.choices,
        relationships=Customer.Relationship.choices,
        list_filters=[(f, f.choices()) for f in list_filters()],
        tags=Tag.objects.all()[:200],
        owners=_owner_choices(request.user),
        units=OrgUnit.objects.all() if filters_by_owner_and_unit(request.user) else [],
        saved_views=SavedView.objects.filter(user=request.user),
        all_columns=_column_choices(pref.columns),
        bulk_actions=_bulk_actions(request.user),
        bulk_users=_bulk_users(request.user),
    )
    return render(request, "customers/customer_list.html", context)


def _column_choices(chosen: list[str]) -> list[dict]:
    """Every column for the chooser: chosen ones first, in their order, then the rest."""
    order = {k: i for i, k in enumerate(chosen)}
    rows = [
        {"column": c, "shown": c.key in order, "position": order.get(c.key, len(COLUMNS)) + 1}
        for c in COLUMNS
    ]
    return sorted(rows, key=lambda r: (not r["shown"], r["position"]))


def _bulk_actions(user: User) -> list[tuple[str, str]]:
    allowed = []
    for key, label in bulk.ACTIONS.items():
        try:
            bulk._check_action(user, key)
        except DomainError:
            continue
        allowed.append((key, str(label)))
    return allowed


def _bulk_users(user: User):
    """Whom customers may be assigned to or shared with from the list."""
    qs = User.objects.filter(is_active=True, roles__role=Role.SALES).only(*USER_NAME_FIELDS)
    qs = qs.distinct()
    units = colleague_units(user)
    if units is not None:
        qs = qs.filter(org_unit_id__in=units)
    return qs.order_by("display_name")[:300]


@login_required
@require_POST
def list_columns_view(request):
    """Save the columns the user ticked, in the order of their position numbers."""
    chosen = []
    for c in COLUMNS:
        if request.POST.get(f"show_{c.key}"):
            raw = (request.POST.get(f"position_{c.key}") or "").strip()
            position = int(raw) if raw.isdigit() and len(raw) < 4 else len(COLUMNS) + 1
            # Two columns on one number: the one whose number the person just typed goes
            # first (typing 1 beside "Revenue" means "Revenue first").
            moved = 0 if raw != (request.POST.get(f"was_{c.key}") or "") else 1
            chosen.append((position, moved, COLUMNS.index(c), c.key))
    keys = clean_columns([key for *_order, key in sorted(chosen)])
    if not keys:
        messages.error(request, _("Choose at least one column."))
    else:
        list_preference_save(actor=request.user, columns=keys)
        messages.success(request, _("Columns saved."))
    query = (request.POST.get("query") or "")[:1000]
    return redirect(reverse("customers:list") + ("?" + query if query else ""))


def _bulk_filters(request) -> CustomerFilter:
    """The rows a bulk action is for: the ticked ones, or every row of the filter."""
    data = request.POST
    if data.get("scope") == "filter":
        query = QueryDict((data.get("query") or "")[:2000]).copy()
        query.pop("cursor", None)
        query.pop("ids", None)
        return CustomerFilter.from_params(query)
    ids = data.getlist("ids")
    if not ids:
        raise ValidationFailed.single(
            "ids", "required", _("Tick the customers to act on, or choose the whole filter.")
        )
    return CustomerFilter(ids=CustomerFilter.from_params({"ids": ",".join(ids)}).ids)


@login_required
@require_POST
def customer_bulk_view(request):
    """A bulk action: first its plan to confirm (what will happen, an optional comment),
    then, when confirmed, the run. Cancelling the confirmation changes nothing."""
    action = request.POST.get("action") or ""
    params = {"user": request.POST.get("user", ""), "tag": request.POST.get("tag", "")}
    try:
        filters = _bulk_filters(request)
        if action == "export":
            qd = QueryDict(mutable=True)
            qd.update(filters.query_params())
            qd["format"] = request.POST.get("format") or "csv"
            return redirect(reverse("transfer:customer_export") + "?" + qd.urlencode())
        if request.POST.get("confirm") == "1":
            result = tasks.bulk_start(
                actor=request.user,
                filters=filters,
                action=action,
                params=params,
                comment=request.POST.get("comment", ""),
            )
        else:
            plan = bulk.bulk_plan(actor=request.user, filters=filters, action=action, params=params)
    except DomainError as exc:
        messages.error(request, exc.message)
        query = (request.POST.get("query") or "")[:1000]
        return redirect(reverse("customers:list") + ("?" + query if query else ""))
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "customers/bulk_confirm.html",
            {
                "plan": plan,
                "post": request.POST,
                "ids": request.POST.getlist("ids"),
                "query": (request.POST.get("query") or "")[:2000],
            },
        )
    if result.queued:
        messages.success(
            request,
            _("The action runs in the background; you will be notified when it is done."),
        )
    else:
        messages.success(
            request,
            _("%(done)s customers changed, %(refused)s refused.")
            % {"done": result.done, "refused": result.refused},
        )
        for reason in result.reasons:
            messages.warning(request, reason)
    query = (request.POST.get("query") or "")[:1000]
    return redirect(reverse("customers:list") + ("?" + query if query else ""))


# Fields a list cell edits in place (htmx), each validated by the customer form itself.
INLINE_FIELDS = ("company", "stage", "relationship")


def _inline_form(request, customer: Customer, name: str, data=None) -> CustomerForm:
    """The customer form reduced to one field: the same validation as the edit page."""
    form = CustomerForm(data, instance=customer, actor=request.user, creating=False)
    form.fields = {name: form.fields[name]}
    return form


@login_required
@require_http_methods(["GET", "POST"])
def customer_inline_edit_view(request, pk: int, field: str):
    """One list cell: GET shows its editor, POST saves it through customer_update (errors
    beside the field), ?cancel=1 shows the cell again."""
    if field not in INLINE_FIELDS:
        raise Http404
    customer = _get_or_404(request, pk)
    context = {"c": customer, "field": field, "col": column(field), "inline_fields": INLINE_FIELDS}
    if request.GET.get("cancel") or not can_edit(request.user, customer):
        return render(request, "customers/partials/list_cell.html", context)
    if request.method == "GET":
        form = _inline_form(request, customer, field)
        context.update(form=form, bound=form[field])
        return render(request, "customers/partials/list_cell_edit.html", context)
    form = _inline_form(request, customer, field, request.POST)
    if form.is_valid():
        try:
            customer = services.customer_update(
                actor=request.user,
                customer_id=pk,
                data={field: form.cleaned_data[field]},
            )
        except DomainError as exc:
            attach_errors(form, exc, FIELD_MAP)
        else:
            customer = _get_or_404(request, pk)
            context["c"] = customer
            context["saved"] = True
            return render(request, "customers/partials/list_cell.html", context)
    context.update(form=form, bound=form[field])
    return render(request, "customers/partials/list_cell_edit.html", context)


@login_required
def region_fields_view(request):
    """The 省/市/区 selects again, the lists below a changed province or city reloaded."""
    initial = {name: (request.GET.get(name) or "")[:30] for name in REGION_FIELDS}
    if initial["province"] not in regions.provinces():
        initial = {"province": "", "city": "", "district": ""}
    elif initial["city"] not in regions.cities(initial["province"]):
        initial.update(city="", district="")
    elif initial["district"] not in regions.districts(initial["province"], initial["city"]):
        initial["district"] = ""
    form = CustomerForm(initial=initial, actor=request.user, creating=True)
    return render(request, "customers/partials/region_fields.html", {"form": form})


def _owner_choices(user: User):
    if not filters_by_owner_and_unit(user):
        return []
    people = (
        User.objects.filter(roles__role=Role.SALES)
        .only(*USER_NAME_FIELDS)
        .distinct()
        .order_by("display_name")
    )
    units = managed_units(user)
    return people if units is None else people.filter(org_unit_id__in=units)


@login_required
@require_POST
def saved_view_create(request):
    name = (request.POST.get("name") or "").strip()[:60]
    query = (request.POST.get("query") or "")[:500]
    if not name:
        messages.error(request, _("Give the view a name."))
    else:
        SavedView.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        messages.success(request, _("View “%s” saved.") % name)
    return redirect(reverse("customers:list") + ("?" + query if query else ""))


@login_required
@require_POST
def saved_view_delete(request, pk: int):
    SavedView.objects.filter(user=request.user, pk=pk).delete()
    return redirect("customers:list")


@login_required
def customer_detail_view(request, pk: int):
    customer = _get_or_404(request, pk)
    context = {
        "customer": customer,
        "phones": customer_phones(viewer=request.user, customer=customer),
        # Contact persons are an organisation's (the page shows them for one only).
        "contacts": _mark(customer, customer.contacts.all())
        if customer.kind == Customer.Kind.ORGANISATION
        else [],
        "dates": customer.dates.all(),
        "household": customer.household.members.exclude(pk=customer.pk)
        .visible_to(request.user)
        .filter(archived_at__isnull=True)
        if customer.household_id
        else [],
        "referrals": customer.referrals.visible_to(request.user).filter(archived_at__isnull=True)[
            :20
        ],
        "tags": customer.tags.all(),
        "shares": customer.shares.select_related("user"),
        "timeline": timeline_for(customer=customer, viewer=request.user, limit=TIMELINE_PAGE),
        "timeline_more": TIMELINE_LIMIT,
        "timeline_limit": TIMELINE_PAGE,
        "timeline_kinds": timeline_kinds(),
        "panels": customer_panels(request=request, customer=customer),
        "can_edit": can_edit(request.user, customer),
        "can_reveal": can_reveal(request.user) and not customer.viewer_unmasked,
        "can_manage": manages(request.user, customer),
        "date_form": ImportantDateForm(),
        "salespeople": User.objects.filter(is_active=True, roles__role=Role.SALES)
        .exclude(pk=customer.owner_id)
        .only(*USER_NAME_FIELDS)
        .distinct()
        .order_by("display_name")
        if can_edit(request.user, customer)
        else [],
    }
    return render(request, "customers/customer_detail.html", context)


def _mark(customer, rows):
    rows = list(rows)
    for row in rows:
        row.viewer_unmasked = customer.viewer_unmasked
    return rows


@login_required
def customer_timeline_view(request, pk: int):
    """The timeline fragment, filtered by kind (htmx), refreshed after a touch is logged."""
    customer = _get_or_404(request, pk)
    kinds = [k for k in request.GET.getlist("kind") if k]
    limit = TIMELINE_LIMIT if request.GET.get("more") else TIMELINE_PAGE
    events = timeline_for(customer=customer, viewer=request.user, kinds=kinds or None, limit=limit)
    return render(
        request,
        "customers/partials/timeline.html",
        {
            "customer": customer,
            "timeline": events,
            "timeline_limit": limit,
            "timeline_more": TIMELINE_LIMIT,
            "selected_kinds": kinds,
            "timeline_kinds": timeline_kinds(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_create_view(request):
    if not can_create(request.user):
        raise Http404
    form = CustomerForm(
        request.POST or None,
        actor=request.user,
        creating=True,
        initial={"phones": request.GET.get("phone", "")},
    )
    candidates = None
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(
                actor=request.user,
                data=form.service_data(),
                phones=form.phone_list(),
                tags=form.tag_list(),
                owner=form.cleaned_data.get("owner"),
                allow_similar=form.cleaned_data.get("allow_similar", False),
            )
        except services.SimilarCustomersFound as exc:
            candidates = exc.candidates
        except DomainError as exc:
            attach_errors(form, exc, FIELD_MAP)
        else:
            messages.success(request, _("Customer “%s” created.") % customer.name)
            return redirect(customer)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": True, "candidates": candidates},
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit_view(request, pk: int):
    customer = _get_or_404(request, pk)
    if not can_edit(request.user, customer):
        raise Http404
    form = CustomerForm(request.POST or None, instance=customer, actor=request.user, creating=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=request.user,
                customer_id=pk,
                data=form.service_data(),
                phones=form.phone_list(),
                tags=form.tag_list(),
            )
        except DomainError as exc:
            attach_errors(form, exc, FIELD_MAP)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:detail", pk=pk)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": False, "customer": customer},
    )


@login_required
@require_POST
def customer_reveal_view(request, pk: int):
    field = request.POST.get("field", "phone")
    try:
        result = services.customer_reveal(actor=request.user, customer_id=pk, field=field)
    except SHOWN_ON_PAGE as exc:
        return HttpResponse(exc.message, status=exc.status)
    if field in ("phone", "phones"):  # read as on the rest of the page: 139 8765 0000
        result["value"] = [display_phone(number) for number in result["value"]]
    return render(request, "customers/partials/revealed.html", result)


def _post_action(request, pk: int, action, success: str, **kwargs):
    page_action(request, action, success, customer_id=pk, **kwargs)
    return redirect("customers:detail", pk=pk)


@login_required
@require_POST
def customer_archive_view(request, pk: int):
    return _post_action(
        request,
        pk,
        services.customer_archive,
        _("Customer archived."),
        reason=request.POST.get("reason", "")[:500],
    )


@login_required
@require_POST
def customer_restore_view(request, pk: int):
    return _post_action(request, pk, services.customer_restore, _("Customer restored."))


@login_required
@require_POST
def customer_share_view(request, pk: int):
    user = User.objects.filter(pk=request.POST.get("user") or 0).first()
    if user is None:
        messages.error(request, _("Choose a salesperson."))
        return redirect("customers:detail", pk=pk)
    if request.POST.get("remove"):
        return _post_action(
            request, pk, services.customer_unshare, _("Sharing removed."), user=user
        )
    return _post_action(request, pk, services.customer_share, _("Customer shared."), user=user)


@login_required
@require_POST
def customer_date_add_view(request, pk: int):
    form = ImportantDateForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}",
            )
        return redirect("customers:detail", pk=pk)
    return _post_action(
        request, pk, services.important_date_add, _("Date added."), data=form.cleaned_data
    )


@login_required
@require_POST
def customer_household_view(request, pk: int):
    member = (request.POST.get("member") or "").strip()
    if not member.isdigit():
        messages.error(request, _("Enter the customer number of the family member."))
        return redirect("customers:detail", pk=pk)
    return _post_action(
        request,
        pk,
        services.household_link,
        _("Household linked."),
        member_id=int(member),
        role=request.POST.get("role", ""),
    )


@login_required
@require_POST
def customer_contact_add_view(request, pk: int):
    data = {k: request.POST.get(k, "") for k in ("name", "title", "phone", "email")}
    return _post_action(request, pk, services.contact_add, _("Contact added."), data=data)


@login_required
@require_http_methods(["GET", "POST"])
def customer_merge_view(request, pk: int):
    keep = _get_or_404(request, pk)
    if not can_edit(request.user, keep):
        raise Http404
    form = MergeForm(request.POST or request.GET or None)
    other = None
    if form.is_bound and form.is_valid():
        try:
            other = customer_get(viewer=request.user, pk=form.cleaned_data["other"])
        except NotFound:
            form.add_error("other", _("No customer with this number is visible to you."))
        else:
            if other.pk == keep.pk:
                form.add_error("other", _("Choose two different customers."))
                other = None
            elif request.method == "POST" and request.POST.get("confirm"):
                try:
                    services.customer_merge(actor=request.user, keep_id=keep.pk, merge_id=other.pk)
                except DomainError as exc:
                    attach_errors(form, exc, {"merge_id": "other"})
                else:
                    messages.success(request, _("Customers merged; every record moved."))
                    return redirect(keep)
    duplicates = find_duplicates(
        viewer=request.user,
        name=keep.name,
        email=keep.email,
        phones=list(keep.phones.values_list("number", flat=True)),
        exclude_id=keep.pk,
    )
    compare = []
    if other:
        labels = {"phone_display": _("Phone"), "owner": _("Owner"), "stage": _("Stage")}
        for name in (
            "name",
            "phone_display",
            "email",
            "company",
            "city",
            "birthday",
            "stage",
            "owner",
            "created_at",
        ):
            label = labels.get(name) or Customer._meta.get_field(name).verbose_name
            if name == "stage":
                compare.append((label, keep.get_stage_display(), other.get_stage_display()))
                continue
            compare.append((label, getattr(keep, name), getattr(other, name)))
    return render(
        request,
        "customers/merge.html",
        {
            "keep": keep,
            "other": other,
            "form": form,
            "duplicates": duplicates,
            "compare": compare,
        },
    )
