"""Background work of the customers app (django-tasks, `guanxi worker`), and the choice of
running a bulk action now or in the worker: the task calls customers.bulk, so the choice that
queues it lives here, above bulk, not in it."""

from django.db import transaction
from django_tasks import task

from guanxi.core.models import User

from .bulk import BulkResult, bulk_apply, bulk_plan, bulk_run_in_worker
from .selectors import CustomerFilter


@task()
def run_bulk_action(actor_id: int, query: dict, action: str, params: dict, comment: str) -> dict:
    """A confirmed bulk action over a large filter (customers.bulk). Each customer is
    changed by its own service call, which refuses a change already made (an archived
    customer is not archived twice), so a repeated delivery changes nothing more."""
    result = bulk_run_in_worker(
        actor_id=actor_id, query=query, action=action, params=params, comment=comment
    )
    return {"done": result.done, "refused": result.refused}


def bulk_start(
    *, actor: User, filters: CustomerFilter, action: str, params: dict, comment: str = ""
) -> BulkResult:
    """Run now when small, else queue for the worker (the actor is notified at the end)."""
    plan = bulk_plan(actor=actor, filters=filters, action=action, params=params)
    if not plan.in_worker:
        return bulk_apply(
            actor=actor, filters=filters, action=action, params=params, comment=comment
        )
    query = filters.query_params()
    transaction.on_commit(
        lambda: run_bulk_action.enqueue(actor.pk, query, action, dict(params), comment)
    )
    return BulkResult(queued=True)
