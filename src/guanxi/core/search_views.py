"""The header's global search: a dropdown of grouped results while typing (htmx), and the
same results as a page when the form is submitted."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .search import clean_query, global_search
from .web import is_htmx_partial


@login_required
def search_view(request):
    q = clean_query(request.GET.get("q", ""))
    groups = global_search(viewer=request.user, q=q)
    context = {"q": q, "groups": groups}
    if is_htmx_partial(request):
        return render(request, "core/partials/search_results.html", context)
    return render(request, "core/search.html", context)
