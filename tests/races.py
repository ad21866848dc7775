"""Start several jobs at one instant in real threads, each with its own connection."""

import threading

from django.db import connection


def run_together(*jobs, timeout: float = 120) -> list:
    """Run every job at the same instant (a barrier); return what each returned or raised."""
    start = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            start.wait(timeout=30)
            outcomes[index] = job()
        except Exception as exc:  # the test asserts on what came out
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes
