from zoneinfo import ZoneInfo

from django.utils import timezone

from guanxi.marketing import services


def email_template(actor, **over):
    data = {
        "name": "春季新品",
        "channel": "email",
        "subject_zh": "{{ salutation }}，春季新品到店",
        "body_zh": (
            '{{ salutation }}您好：\n\n春季新品已到{{ city | default("门店") }}。'
            "详情 https://shop.example.cn/spring\n\n"
            '{{ owner_name | default("关系门店") }}'
        ),
        "subject_en": "Spring arrivals, {{ name }}",
        "body_en": "Dear {{ name }},\n\nNew arrivals: https://shop.example.cn/spring",
    }
    data.update(over)
    return services.template_save(actor=actor, data=data)


def everyone_with_email(actor, name="有邮箱的客户", **kw):
    return services.segment_save(
        actor=actor,
        name=name,
        rules={"all": [{"field": "has_email", "op": "is", "value": "1"}]},
        **kw,
    )


def campaign_for(actor, segment, template, material="2026 春季手册", **kw):
    campaign = services.campaign_create(
        actor=actor,
        name=kw.pop("name", "春季推广"),
        template_id=template.pk,
        segment_id=segment.pk,
        material=material,
        **kw,
    )
    return services.campaign_schedule(actor=actor, campaign_id=campaign.pk)


def zone_where_it_is_night() -> str:
    """A time zone where it is now 02:00–04:59 local: outside every sending window."""
    now = timezone.now()
    for offset in range(-12, 15):
        name = f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}"
        if 2 <= now.astimezone(ZoneInfo(name)).hour < 5:
            return name
    raise AssertionError("no zone found")
