"""C2/C8: moving a customer's next follow-up is the owner's (or a manager's) right, whether
through the follow-up form or through logging an interaction."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.core.errors import DomainError
from guanxi.interactions.models import Interaction

from .helpers import log


def test_a_receptionist_logging_a_contact_cannot_move_the_owners_follow_up(receptionist, customer):
    before = customer.next_follow_up_at
    with pytest.raises(DomainError) as caught:
        log(receptionist, customer, next_follow_up_at=timezone.now() + timedelta(days=3))
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        403,
        "follow_up_owner_only",
        "next_follow_up_at",
    )
    customer.refresh_from_db()
    assert customer.next_follow_up_at == before
    assert not Interaction.objects.filter(customer=customer).exists()


def test_the_owner_and_a_manager_move_it_through_an_interaction(owner, manager, customer):
    for actor, days in ((owner, 3), (manager, 5)):
        at = timezone.now() + timedelta(days=days)
        log(actor, customer, next_follow_up_at=at)
        customer.refresh_from_db()
        assert customer.next_follow_up_at == at


def test_a_receptionist_still_logs_the_contact_itself(receptionist, customer):
    log(receptionist, customer)
    assert Interaction.objects.filter(customer=customer, actor=receptionist).count() == 1


def test_the_api_answers_403_with_the_field(client, receptionist, customer):
    client.force_login(receptionist)
    response = client.post(
        f"/api/v1/customers/{customer.pk}/interactions",
        {
            "kind": "call_out",
            "summary": "问候",
            "next_follow_up_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (response.json()["code"], response.json()["field"]) == (
        "follow_up_owner_only",
        "next_follow_up_at",
    )
