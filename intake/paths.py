"""The questionnaire's own addresses, worked out once per process.

Every questionnaire request needs a step's address (a redirect, the Back
link, each "Change" link on the check page), and ``reverse()`` costs more
than the rest of building those links. The address depends only on the URL
configuration and the script prefix the site is served under, so it is kept
per step and prefix.
"""

import functools

from django.urls import get_script_prefix, reverse


def step_path(slug: str) -> str:
    """A step's address, as ``reverse("intake:step", kwargs={"step": slug})`` gives it."""
    return _step_path(slug, get_script_prefix())


@functools.cache
def _step_path(slug: str, script_prefix: str) -> str:
    return reverse("intake:step", kwargs={"step": slug})
