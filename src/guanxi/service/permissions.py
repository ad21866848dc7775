"""Who may see and work on tickets: the one place these rules live (views, API, services
and templates all ask here).

- admin: every ticket.
- manager: tickets handled by a unit they manage, or of a customer in one.
- service agent, receptionist: tickets handled by their branch, and those assigned to them.
- salesperson: tickets of the customers they own, only.
"""

from django.db.models import Q

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role, manages_unit, works_in_branch_as

AGENT_ROLES = (Role.SERVICE, Role.RECEPTIONIST)


def ticket_visibility_q(user: User) -> Q:
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    q = Q(pk__in=[])
    if user.managed_unit_ids:
        q |= Q(org_unit_id__in=user.managed_unit_ids) | Q(
            customer__org_unit_id__in=user.managed_unit_ids
        )
    if user.has_role(*AGENT_ROLES):
        if user.branch_unit_ids:
            q |= Q(org_unit_id__in=user.branch_unit_ids)
        q |= Q(assignee_id=user.id)
    if user.has_role(Role.SALES):
        q |= Q(customer__owner_id=user.id)
    return q


def queue_unit_ids(user: User) -> frozenset[int] | None:
    """The handling units whose queue `user` works (None: all, for admins)."""
    if user.is_admin:
        return None
    units = set(user.managed_unit_ids)
    if user.has_role(*AGENT_ROLES):
        units |= user.branch_unit_ids
    return frozenset(units)


def can_create_ticket(user: User) -> bool:
    """Anyone who serves customers opens a ticket for one they can see."""
    return user.is_active and (
        user.is_admin or user.has_role(Role.SERVICE, Role.RECEPTIONIST, Role.MANAGER, Role.SALES)
    )


def can_work(user: User, ticket) -> bool:
    """Reply, change status, resolve: the assignee, the branch's agents, its managers."""
    if not user.is_active:
        return False
    if ticket.assignee_id == user.id or manages_unit(user, ticket.org_unit_id):
        return True
    return works_in_branch_as(user, ticket.org_unit_id, Role.SERVICE)


def can_assign(user: User, ticket) -> bool:
    """Managers of the handling unit assign anyone; an agent may take a ticket themselves."""
    return user.is_active and manages_unit(user, ticket.org_unit_id)


def can_manage_service(user: User) -> bool:
    """SLA policies, skills, the knowledge base."""
    return user.is_active and (user.is_admin or user.has_role(Role.MANAGER))


def can_edit_articles(user: User) -> bool:
    return user.is_active and (user.is_admin or user.has_role(Role.MANAGER, Role.SERVICE))


def can_read_service_reports(user: User) -> bool:
    """CSAT, deflections and service value: managers of service and the agents."""
    return can_manage_service(user) or user.has_role(Role.SERVICE)


def has_service_home(user: User) -> bool:
    """Agents and salespeople see their tickets and return visits on the home page."""
    return user.has_role(Role.SERVICE, Role.SALES)


def is_agent(user: User) -> bool:
    return user.has_role(Role.SERVICE)


def may_be_assigned(user: User) -> bool:
    """Who a ticket may be given to by hand: service agents and managers."""
    return has_any_role(user, Role.SERVICE, Role.MANAGER)


def can_set_skills(actor: User, agent: User) -> bool:
    return manages_unit(actor, agent.org_unit_id)


def reads_manager_view(user: User) -> bool:
    return can_manage_service(user)
