"""Staff editing in the admin: smoke tests, history of every change, publishing."""

import pytest
from django.test import Client
from django.urls import reverse

from conditions.models import SECTION_FIELDS, Condition, Reference
from conditions.services import condition_set_published
from tests.conditions.factories import ReferenceFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONDITION_FIELDS = (
    "title",
    "slug",
    "group",
    "summary",
    "description",
    "description_es",
    "sort_order",
    *SECTION_FIELDS,
    "reviewed_on",
)
REFERENCE_FIELDS = (
    "sort_order",
    "kind",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "pages",
    "doi",
    "pmid",
)


def change_form_data(condition: Condition, **changes) -> dict:
    """What the admin change form posts for this page, with some fields changed."""
    data = {name: getattr(condition, name) or "" for name in CONDITION_FIELDS}
    data["related_codes"] = "\n".join(condition.related_codes)
    data["required_codes"] = "\n".join(condition.required_codes)
    if condition.is_published:
        data["is_published"] = "on"
    if condition.show_emergency_box:
        data["show_emergency_box"] = "on"
    references = list(condition.references.all())
    data.update(
        {
            "references-TOTAL_FORMS": str(len(references)),
            "references-INITIAL_FORMS": str(len(references)),
            "references-MIN_NUM_FORMS": "0",
            "references-MAX_NUM_FORMS": "1000",
        }
    )
    for index, reference in enumerate(references):
        prefix = f"references-{index}-"
        data[prefix + "id"] = str(reference.pk)
        data[prefix + "condition"] = str(condition.pk)
        for name in REFERENCE_FIELDS:
            data[prefix + name] = getattr(reference, name)
    data.update(changes)
    return data


def change_url(condition: Condition) -> str:
    return reverse("admin:conditions_condition_change", args=[condition.pk])


@pytest.mark.parametrize("model", ["condition", "reference"])
def test_admin_pages_load(superuser_client, model):
    obj = Condition.objects.get(slug="spinal-stenosis")
    if model == "reference":
        obj = obj.references.first()
    for name, args in (
        ("changelist", []),
        ("add", []),
        ("change", [obj.pk]),
        ("history", [obj.pk]),
    ):
        url = reverse(f"admin:conditions_{model}_{name}", args=args)
        assert superuser_client.get(url).status_code == 200, url


def test_changelist_search_and_filter(superuser_client):
    url = reverse("admin:conditions_condition_changelist")
    response = superuser_client.get(url, {"q": "stenosis", "is_published__exact": "1"})
    assert response.status_code == 200
    assert "Spinal stenosis" in response.content.decode()


def test_changelist_query_count_does_not_grow_with_rows(
    superuser_client, django_assert_max_num_queries
):
    url = reverse("admin:conditions_reference_changelist")
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200
    ReferenceFactory.create_batch(30)
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200


def test_editing_through_the_admin_records_who_when_and_what(superuser_client, superuser):
    condition = Condition.objects.get(slug="spinal-stenosis")
    history_before = condition.history.count()
    response = superuser_client.post(
        change_url(condition),
        change_form_data(condition, treatment="New treatment text.\n\n- first\n- second"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    condition.refresh_from_db()
    assert condition.treatment == "New treatment text.\n\n- first\n- second"
    assert condition.history.count() == history_before + 1
    latest = condition.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == superuser
    assert latest.history_date is not None
    delta = latest.diff_against(latest.prev_record)
    assert "treatment" in delta.changed_fields
    assert "title" not in delta.changed_fields

    history_page = superuser_client.get(
        reverse("admin:conditions_condition_history", args=[condition.pk])
    ).content.decode()
    assert superuser.username in history_page
    assert "New treatment text." in history_page  # the change itself is shown


def test_editing_a_reference_inline_records_its_history(superuser_client, superuser):
    condition = Condition.objects.get(slug="spondylolisthesis")
    reference = condition.references.get(kind="article")
    data = change_form_data(condition)
    index = list(condition.references.all()).index(reference)
    data[f"references-{index}-pages"] = "327-335 (edited)"
    response = superuser_client.post(change_url(condition), data)
    assert response.status_code == 302
    latest = Reference.history.filter(id=reference.pk).latest()
    assert latest.pages == "327-335 (edited)"
    assert latest.history_user == superuser


def test_clinic_manager_without_superuser_can_edit(editor_client, content_editor):
    condition = Condition.objects.get(slug="diabetic-neuropathy")
    response = editor_client.post(change_url(condition), change_form_data(condition, title="DN"))
    assert response.status_code == 302
    assert condition.history.latest().history_user == content_editor


def test_unknown_related_code_is_rejected_with_a_message(superuser_client):
    condition = Condition.objects.get(slug="diabetic-neuropathy")
    response = superuser_client.post(
        change_url(condition), change_form_data(condition, related_codes="diabetes\nfeet_numb")
    )
    assert response.status_code == 200
    assert "is not a questionnaire code" in response.content.decode()
    condition.refresh_from_db()
    assert "feet_numb" not in condition.related_codes


def test_related_codes_are_edited_one_per_line(superuser_client):
    condition = Condition.objects.get(slug="diabetic-neuropathy")
    response = superuser_client.post(
        change_url(condition),
        change_form_data(condition, related_codes="diabetes\n\n feet_numbness \nweak_side=both"),
    )
    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.related_codes == ["diabetes", "feet_numbness", "weak_side=both"]


def test_article_without_doi_or_pmid_is_rejected(superuser_client):
    condition = Condition.objects.get(slug="spondylolisthesis")
    data = change_form_data(condition)
    index = [r.kind for r in condition.references.all()].index("article")
    data[f"references-{index}-doi"] = ""
    data[f"references-{index}-pmid"] = ""
    response = superuser_client.post(change_url(condition), data)
    assert response.status_code == 200
    assert "needs a DOI or a PubMed ID" in response.content.decode()


def test_save_and_preview_goes_to_the_page(superuser_client):
    condition = Condition.objects.get(slug="spondylolisthesis")
    response = superuser_client.post(
        change_url(condition), change_form_data(condition, _preview="Save and preview")
    )
    assert response.status_code == 302
    assert response["Location"] == condition.get_absolute_url()


def test_unpublish_and_publish_actions_hide_the_page_and_keep_history(superuser_client, superuser):
    public = Client()
    condition = Condition.objects.get(slug="spinal-tumour")
    changelist = reverse("admin:conditions_condition_changelist")

    response = superuser_client.post(
        changelist, {"action": "unpublish_selected", "_selected_action": [condition.pk]}
    )
    assert response.status_code == 302
    condition.refresh_from_db()
    assert condition.is_published is False
    record = condition.history.latest()
    assert record.history_user == superuser
    assert record.history_change_reason == "Unpublished"
    assert public.get(condition.get_absolute_url()).status_code == 404

    superuser_client.post(
        changelist, {"action": "publish_selected", "_selected_action": [condition.pk]}
    )
    condition.refresh_from_db()
    assert condition.is_published is True
    assert condition.history.latest().history_change_reason == "Published"
    assert public.get(condition.get_absolute_url()).status_code == 200


def test_admin_is_closed_to_the_public(client):
    response = client.get(reverse("admin:conditions_condition_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_clinic_manager_role_can_edit_and_preview_the_library(client):
    from django.contrib.auth.models import Group

    manager = UserFactory(username="role-manager")
    manager.groups.add(Group.objects.get(name="Clinic manager"))
    client.force_login(manager)
    condition = Condition.objects.get(slug="spinal-tumour")
    condition_set_published(condition=condition, is_published=False)

    assert client.get(change_url(condition)).status_code == 200
    assert client.get(condition.get_absolute_url()).status_code == 200  # preview
    response = client.post(change_url(condition), change_form_data(condition, title="ST"))
    assert response.status_code == 302
    assert condition.history.latest().history_user == manager


def test_staff_write_the_one_line_description_and_the_answers_a_page_needs(
    superuser_client, superuser
):
    condition = Condition.objects.get(slug="direct-nerve-trauma")
    response = superuser_client.post(
        change_url(condition),
        change_form_data(
            condition,
            description="A nerve hurt in an accident.",
            description_es="Un nervio lesionado en un accidente.",
            required_codes="recent_trauma\nfalls=maybe\nnot_a_code",
        ),
    )
    assert response.status_code == 200  # shown again with the errors
    page = response.content.decode()
    assert "“maybe” is not a possible answer to “falls”" in page
    assert "“not_a_code” is not a questionnaire code." in page

    response = superuser_client.post(
        change_url(condition),
        change_form_data(
            condition,
            description="A nerve hurt in an accident.",
            description_es="Un nervio lesionado en un accidente.",
            required_codes="recent_trauma\nfalls",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    condition.refresh_from_db()
    assert condition.description == "A nerve hurt in an accident."
    assert condition.description_es == "Un nervio lesionado en un accidente."
    assert condition.required_codes == ["recent_trauma", "falls"]
    latest = condition.history.latest()
    assert latest.history_user == superuser
    changed = latest.diff_against(latest.prev_record).changed_fields
    assert {"description", "description_es", "required_codes"} <= set(changed)
