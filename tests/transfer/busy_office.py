"""An office at work through the API while an import runs: threads that create and edit
customers as fast as the server answers, each request timed. Used by
tests/transfer/test_import_beside_others.py and bench/transfer.py."""

import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Outcome:
    what: str
    status: int
    seconds: float
    started: float
    body: str = ""


@dataclass
class BusyOffice:
    base_url: str
    token: str
    threads: int = 20
    prefix: str = "177"  # phones 177TTNNNNNN: one range per thread, none an import uses
    pause: float = 0.0  # seconds each thread waits between two saves
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self) -> "BusyOffice":
        for number in range(self.threads):
            worker = threading.Thread(target=self._work, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=120)
        return self.outcomes

    def _record(self, what: str, started: float, response) -> None:
        body = response.text[:300] if response.status_code >= 300 else ""
        outcome = Outcome(what, response.status_code, time.monotonic() - started, started, body)
        with self._lock:
            self.outcomes.append(outcome)

    def _work(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=120) as client:
            n = 0
            while not self._stop.is_set():
                n += 1
                started = time.monotonic()
                try:
                    created = client.post(
                        "/api/v1/customers",
                        json={
                            "name": f"同事{number}号{n}",
                            "phones": [f"{self.prefix}{number:02d}{n:06d}"],
                            "allow_similar": True,  # 同事1号2 and 同事1号3 are two people
                        },
                    )
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.outcomes.append(Outcome("create", 599, 0.0, started, repr(exc)))
                    continue
                self._record("create", started, created)
                if created.status_code == 201:
                    started = time.monotonic()
                    try:
                        edited = client.patch(
                            f"/api/v1/customers/{created.json()['id']}",
                            json={"city": "上海", "notes": f"第{n}次保存"},
                        )
                    except httpx.HTTPError as exc:
                        with self._lock:
                            self.outcomes.append(Outcome("edit", 599, 0.0, started, repr(exc)))
                        continue
                    self._record("edit", started, edited)
                if self.pause:
                    self._stop.wait(self.pause)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.status >= 300]


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
