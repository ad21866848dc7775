from django_tasks import task


@task()
def recompute_all() -> dict:
    return {}
