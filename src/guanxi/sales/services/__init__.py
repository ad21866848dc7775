"""Every change in the sales process: permission, one transaction, history and audit.

No unit is ever sold twice: a unit changes hands only through `unit_claim`'s conditional
UPDATE (`… WHERE status = 'available'`), which exactly one of any number of racing
requests wins. One module per sub-domain; this package exposes their services.
"""

from .agreements import agreement_amend, agreement_issue, agreement_preview, schedule_set
from .changes import change_decide, change_request
from .deals import deal_create, deal_move, deal_take_deposit
from .orders import order_create, order_deliver, order_ship
from .overdue import overdue_scan
from .payments import payment_record
from .products import product_create, unit_set_release, units_create
from .quotes import quote_decide, quote_issue

__all__ = [
    "agreement_amend",
    "agreement_issue",
    "agreement_preview",
    "change_decide",
    "change_request",
    "deal_create",
    "deal_move",
    "deal_take_deposit",
    "order_create",
    "order_deliver",
    "order_ship",
    "overdue_scan",
    "payment_record",
    "product_create",
    "quote_decide",
    "quote_issue",
    "schedule_set",
    "unit_set_release",
    "units_create",
]
