"""Background work of the customers app (django-tasks, `guanxi worker`)."""

from django_tasks import task

from .bulk import bulk_run_in_worker


@task()
def run_bulk_action(actor_id: int, query: dict, action: str, params: dict, comment: str) -> dict:
    """A confirmed bulk action over a large filter (customers.bulk). Each customer is
    changed by its own service call, which refuses a change already made (an archived
    customer is not archived twice), so a repeated delivery changes nothing more."""
    result = bulk_run_in_worker(
        actor_id=actor_id, query=query, action=action, params=params, comment=comment
    )
    return {"done": result.done, "refused": result.refused}
