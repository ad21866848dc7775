"""Chinese number formats for Guanxi: Django's zh_Hans formats, except that amounts group by
thousands with a comma (¥2,670,000.00), as contracts, bank slips and invoices in mainland
China print them. Django's default (no separator, groups of four) prints ¥2670000.00."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
