"""Export over the API: GET /api/v1/customers/export?format=csv (or xlsx), with the list's
filters as query parameters. Same visibility and masking as the list."""

from ninja import Router

from .views import export_response

router = Router()


@router.get("/export", include_in_schema=True, summary="Export the visible customers")
def customer_export(request, format: str = "csv"):
    """CSV (streamed; `encoding=gbk` for older Excel) or `format=xlsx`. Filters: q, segment,
    stage, relationship, owner, tag, org_unit, archived — as GET /customers."""
    return export_response(request.user, request.GET)
