"""Staff editing of the education library (the clinic manager's job).

Every save is kept by django-simple-history: the "History" button on a page
lists who changed it, when, and each field's old and new value.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .models import SECTION_FIELDS, Condition, Reference, translated_field_names
from .services import condition_set_published


class RelatedCodesField(forms.CharField):
    """Edit a list of codes as text, one per line, instead of raw JSON."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 40})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        codes = []
        for line in text.replace(",", "\n").splitlines():
            code = line.strip()
            if code and code not in codes:
                codes.append(code)
        return codes

    def has_changed(self, initial, data):
        return (initial or []) != self.to_python(data)


#: The Spanish version of a page, edited beside the English one: the fields a
#: complete Spanish page needs, then its optional one-line description.
SPANISH_FIELDS = (*translated_field_names("es"), "description_es")


class ConditionAdminForm(forms.ModelForm):
    related_codes = RelatedCodesField(
        label=_("Related questionnaire answers"),
        required=False,
        help_text=Condition._meta.get_field("related_codes").help_text,
    )
    required_codes = RelatedCodesField(
        label=_("Answers the page needs"),
        required=False,
        help_text=Condition._meta.get_field("required_codes").help_text,
    )

    class Meta:
        model = Condition
        fields = (
            "title",
            "slug",
            "group",
            "summary",
            "description",
            "sort_order",
            *SECTION_FIELDS,
            "show_emergency_box",
            *SPANISH_FIELDS,
            "related_codes",
            "required_codes",
            "is_published",
            "reviewed_on",
        )
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "summary_es": forms.Textarea(attrs={"rows": 3}),
        }


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


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0
    fields = REFERENCE_FIELDS


@admin.register(Condition)
class ConditionAdmin(SimpleHistoryAdmin):
    form = ConditionAdminForm
    list_display = (
        "title",
        "group",
        "is_published",
        "has_spanish",
        "sort_order",
        "updated_at",
        "page_link",
    )
    list_display_links = ("title",)
    list_filter = ("group", "is_published")
    search_fields = ("title", "slug", "summary", "description", "title_es", "summary_es")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("created_at", "updated_at")
    inlines = [ReferenceInline]
    actions = ["publish_selected", "unpublish_selected"]
    history_list_display = ["is_published"]
    save_on_top = True
    fieldsets = (
        (None, {"fields": ("title", "slug", "group", "summary", "description", "sort_order")}),
        (
            _("Page text"),
            {
                "description": _(
                    "Plain text only: HTML is shown as typed, not run. Leave a blank line "
                    "between paragraphs; start a line with “- ” for a bullet point."
                ),
                "fields": (*SECTION_FIELDS, "show_emergency_box"),
            },
        ),
        (
            _("Spanish version"),
            {
                "description": _(
                    "The same facts as the English page, in plain Spanish. Patients who "
                    "choose Spanish see this version only when every field here but the "
                    "one-line description is filled in; until then they see the English "
                    "page with a note that it is only in English for now. References are "
                    "shared by both versions."
                ),
                "fields": SPANISH_FIELDS,
            },
        ),
        (
            _("Links from the questionnaire"),
            {
                "description": _(
                    "After the questionnaire a patient is shown at most four pages, each "
                    "only for a reason in their answers: one of the related answers, and "
                    "one of the answers the page needs when that list is not empty. Pages "
                    "in the serious group come first."
                ),
                "fields": ("related_codes", "required_codes"),
            },
        ),
        (
            _("Publishing"),
            {"fields": ("is_published", "reviewed_on", "created_at", "updated_at")},
        ),
    )

    @admin.display(description=_("Spanish"), boolean=True)
    def has_spanish(self, obj: Condition) -> bool:
        return obj.has_translation("es")

    @admin.display(description=_("Page"))
    def page_link(self, obj: Condition) -> str:
        label = _("View") if obj.is_published else _("Preview")
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)

    def response_add(self, request, obj, post_url_continue=None):
        if "_preview" in request.POST:
            return HttpResponseRedirect(obj.get_absolute_url())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_preview" in request.POST:
            return HttpResponseRedirect(obj.get_absolute_url())
        return super().response_change(request, obj)

    def _set_published(self, request, queryset, *, is_published: bool) -> int:
        changed = 0
        for condition in queryset:
            if condition.is_published != is_published:
                condition_set_published(
                    condition=condition, is_published=is_published, changed_by=request.user
                )
                changed += 1
        return changed

    @admin.action(description=_("Publish selected pages"), permissions=["change"])
    def publish_selected(self, request, queryset):
        changed = self._set_published(request, queryset, is_published=True)
        self.message_user(
            request,
            ngettext("%d page published.", "%d pages published.", changed) % changed,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish selected pages"), permissions=["change"])
    def unpublish_selected(self, request, queryset):
        changed = self._set_published(request, queryset, is_published=False)
        self.message_user(
            request,
            ngettext("%d page unpublished.", "%d pages unpublished.", changed) % changed,
            messages.SUCCESS,
        )


@admin.register(Reference)
class ReferenceAdmin(SimpleHistoryAdmin):
    """References are edited on their page; this list finds them and shows their history."""

    list_display = ("title", "authors", "year", "kind", "condition", "doi", "pmid")
    list_filter = ("kind", "condition")
    list_select_related = ("condition",)
    search_fields = ("title", "authors", "journal", "doi", "pmid", "condition__title")
    autocomplete_fields = ("condition",)
    fields = ("condition", *REFERENCE_FIELDS)
