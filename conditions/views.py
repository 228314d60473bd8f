"""Public pages of the education library: /conditions/ and /conditions/<slug>/."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from .selectors import condition_for_page, published_conditions_by_group


def condition_list(request):
    """Every published page, grouped, with the "this is not a diagnosis" note."""
    groups = published_conditions_by_group()
    emergency_page = next(
        (c for group in groups for c in group.conditions if c.show_emergency_box), None
    )
    return render(
        request, "conditions/list.html", {"groups": groups, "emergency_page": emergency_page}
    )


def can_preview_unpublished(user) -> bool:
    """Staff who may view conditions in the admin may also preview unpublished pages."""
    return bool(user.is_active and user.is_staff and user.has_perm("conditions.view_condition"))


def condition_detail(request, slug):
    """One page. Unpublished pages are a 404 for everyone but staff previewing them."""
    condition = get_object_or_404(condition_for_page(), slug=slug)
    is_preview = not condition.is_published
    if is_preview and not can_preview_unpublished(request.user):
        raise Http404("No such condition page.")
    references = list(condition.references.all())
    context = {
        "condition": condition,
        "references": references,
        "is_preview": is_preview,
    }
    response = render(request, "conditions/detail.html", context)
    if is_preview:
        # A preview is for this member of staff only; never let a cache keep it.
        response["Cache-Control"] = "private, no-store"
    return response
