from guanxi.service.services import ticket_create


def open_ticket(actor, customer, type="complaint", priority="normal", **kw):
    return ticket_create(
        actor=actor,
        customer_id=customer.pk if customer else None,
        type=type,
        channel=kw.pop("channel", "phone"),
        priority=priority,
        subject=kw.pop("subject", "热水器不出热水"),
        **kw,
    )
