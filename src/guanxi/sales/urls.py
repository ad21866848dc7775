from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("", views.pipeline_view, name="pipeline"),
    path("board/", views.board_view, name="board"),
    path("approvals/", views.approvals_view, name="approvals"),
    path("finance/", views.finance_view, name="finance"),
    path("units/<int:pk>/release/", views.unit_release_view, name="unit_release"),
    path("new/", views.deal_start_view, name="deal_start"),
    path("new/<int:customer_id>/", views.deal_create_view, name="deal_create"),
    path("deals/<int:pk>/", views.deal_view, name="deal"),
    path("deals/<int:pk>/move/", views.deal_move_view, name="deal_move"),
    path("deals/<int:pk>/deposit/", views.deposit_view, name="deposit"),
    path("deals/<int:pk>/agreement/", views.agreement_issue_view, name="agreement_issue"),
    path("deals/<int:pk>/payment/", views.payment_view, name="payment"),
    path("deals/<int:pk>/quote/", views.quote_view, name="quote"),
    path("deals/<int:pk>/change/", views.change_view, name="change"),
    path("agreements/<int:pk>.pdf", views.agreement_pdf_view, name="agreement_pdf"),
]
