"""Proof-of-work captcha for public forms (ALTCHA, self-hosted, no third party).

Shared by every public form (marketing's lead capture, service's contact form). The page
gets a signed challenge; the browser finds the number whose SHA-256 with the salt matches
(static/guanxi/altcha-solve.js, a few hundred milliseconds of work); the server checks the
signature, the expiry and that the solution was not used before. The `altcha` package from
PyPI makes and verifies challenges.
"""

import base64
import json
from datetime import timedelta

import altcha
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

MAX_NUMBER = 50_000
VALID_FOR = timedelta(minutes=20)


def _key() -> str:
    return getattr(settings, "GUANXI_CAPTCHA_KEY", "") or settings.SECRET_KEY


def captcha_challenge() -> dict:
    """A fresh challenge as the widget expects it (JSON-serialisable)."""
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            hmac_key=_key(),
            max_number=int(getattr(settings, "GUANXI_CAPTCHA_MAX_NUMBER", MAX_NUMBER)),
            expires=timezone.now() + VALID_FOR,
        )
    )
    return challenge.to_dict()


def captcha_verify(payload: str) -> bool:
    """True for a valid, unexpired solution seen for the first time."""
    if not payload or len(payload) > 2000:
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, _key(), check_expires=True)
    except Exception:  # a malformed payload is a failed captcha, never a 500
        return False
    if not ok:
        return False
    try:
        signature = json.loads(base64.b64decode(payload))["signature"]
    except (ValueError, KeyError, TypeError):
        return False
    # One solution, one submission: replaying a solved challenge fails.
    return cache.add(f"captcha:{signature}", 1, timeout=int(VALID_FOR.total_seconds()) + 60)


def captcha_solve_for_tests(challenge: dict) -> str:
    """The browser's work, done in Python: tests and scripts that submit public forms."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    if solution is None:
        raise ValueError("challenge not solvable")
    payload = {
        "algorithm": challenge["algorithm"],
        "challenge": challenge["challenge"],
        "number": solution.number,
        "salt": challenge["salt"],
        "signature": challenge["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()
