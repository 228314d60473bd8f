"""English dates and times as every staff page writes them: "26 Nov 2026, 14:05".

Django's admin, and the admin pages of the packages we use (the audit log,
lockouts, two-factor devices, background tasks), format dates through these
names; our own staff pages use the same patterns (``intake_admin.staff_datetime``),
so one format is seen everywhere, 24-hour and with the month as a word,
never "Nov. 26, 2026, 2:05 p.m." beside "14:05".
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
