"""Who may run the sales floor: products and units, deals, quotes and approvals, money."""

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role, in_branch, is_manager
from guanxi.core.visibility import can_edit, manages


def manages_sales(actor: User) -> bool:
    """Products, unit releases, approvals and the commission rules: a manager's."""
    return is_manager(actor)


def can_open_deals(actor: User) -> bool:
    """Whose role opens deals at all (the "New deal" buttons of the pipeline and the board)."""
    return has_any_role(actor, Role.SALES, Role.MANAGER)


def can_open_deal(actor: User, customer) -> bool:
    """Who opens a deal for this customer: a salesperson or manager who may edit them (the
    owner, or a manager over them), never for an archived customer."""
    return can_open_deals(actor) and not customer.archived_at and can_edit(actor, customer)


def can_work_deal(actor: User, deal) -> bool:
    """Move, quote and change a deal: its owner and the managers over its customer."""
    return deal.owner_id == actor.pk or manages(actor, deal.customer)


def can_set_schedule(actor: User, deal) -> bool:
    return can_work_deal(actor, deal) or is_finance(actor)


def is_finance(actor: User) -> bool:
    """Records money received (an administrator does not: the receipt is finance's)."""
    return actor.has_role(Role.FINANCE)


def reads_finance_desk(actor: User) -> bool:
    return has_any_role(actor, Role.FINANCE)


def approves_own_discounts(actor: User) -> bool:
    """A manager's quote above the threshold needs nobody's approval."""
    return is_manager(actor)


def sees_team_pipeline(user: User) -> bool:
    return is_manager(user)


def has_pipeline(user: User) -> bool:
    return has_any_role(user, Role.MANAGER, Role.SALES)


def hears_of_overdue(finance_person: User, unit_id: int | None) -> bool:
    """Finance of the customer's branch only: the notice names the customer and the amount,
    which finance of another branch may not see."""
    return in_branch(finance_person, unit_id)
