"""Chinese formats for Guanxi: Django's zh_Hans formats, except that

- amounts group by thousands with a comma (¥2,670,000.00), as contracts, bank slips and
  invoices in mainland China print them. Django's default (no separator, groups of four)
  prints ¥2670000.00;
- dates read 2026年12月3日 in sentences and headings, and 2026-12-03 in table cells and
  compact lists, as Chinese office software (and 纷享销客, 钉钉) shows them; month and day
  alone read 12月3日."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
# Guanxi's own names, read by guanxi.core.formatting.local_date (not Django settings names).
MONTH_DAY_TIME_FORMAT = "n月j日 H:i"
WEEKDAY_DATE_FORMAT = "Y年n月j日 l"
SHORT_DATETIME_SECONDS_FORMAT = "Y-m-d H:i:s"
