"""English date formats for Guanxi: day, month name, year ("3 Dec 2026"), which no reader can
misread (Django's default 12/03/2026 is the 3rd of December in the US and the 12th of March
nearly everywhere else), and a 24-hour clock, as the office in China keeps it. Input formats
stay Django's (ISO first), so forms keep accepting 2026-12-03."""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"  # 3 December 2026
SHORT_DATE_FORMAT = "j M Y"  # 3 Dec 2026, in table cells
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
# Guanxi's own names, read by guanxi.core.formatting.local_date (not Django settings names).
MONTH_DAY_TIME_FORMAT = "j M, H:i"
WEEKDAY_DATE_FORMAT = "l j F Y"
SHORT_DATETIME_SECONDS_FORMAT = "j M Y, H:i:s"
