"""The patient-education library: one page per condition, with its references.

Page text is stored as plain text, never HTML. The ``plain_text`` template
filter (conditions/templatetags/conditions_tags.py) turns blank lines into
paragraphs and lines starting with "- " into bullet lists, escaping everything.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .codes import validate_related_codes


class ConditionGroup(models.TextChoices):
    """How the library is grouped on /conditions/, in the order shown there."""

    SPINE = "spine", _("Nerve compression in the spine")
    NERVES = "nerves", _("Nerve problems elsewhere")
    MUSCLE_JOINT = "muscle_joint", _("Muscle and joint causes")
    SERIOUS = "serious", _("Emergencies and serious causes")


#: The page sections, in the order a page shows them.
SECTION_FIELDS = ("what_it_is", "symptoms", "causes", "assessment", "treatment", "urgent_help")

#: The language of the main text fields. Staff write every page in English first.
BASE_LANGUAGE = "en"
#: Other languages a page can also be written in. Each has its own copy of every
#: translated field, named ``<field>_<language>`` (``title_es``), so staff edit
#: both versions in the admin and the page history keeps both.
TRANSLATION_LANGUAGES = ("es",)
#: Everything a patient reads on a page (references stay as published). A page
#: is shown in a language only when all of these are written in it.
TRANSLATED_FIELDS = ("title", "summary", *SECTION_FIELDS)
#: Translated too, but optional: the one-line description shown under a page's
#: link in the topics a patient's answers point to. A missing description hides
#: nothing; the link is shown without it.
OPTIONAL_TRANSLATED_FIELDS = ("description",)


def translated_field_names(language: str) -> tuple[str, ...]:
    """The names of the fields holding a page's text in ``language``."""
    if language == BASE_LANGUAGE:
        return TRANSLATED_FIELDS
    return tuple(f"{name}_{language}" for name in TRANSLATED_FIELDS)


def translation_annotation_name(language: str) -> str:
    """The queryset annotation saying whether a page is complete in ``language``."""
    return f"translation_complete_{language}"


def _base_code(language: str | None) -> str:
    return (language or BASE_LANGUAGE).split("-")[0].lower()


class Condition(models.Model):
    slug = models.SlugField(_("web address name"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    group = models.CharField(_("group"), max_length=20, choices=ConditionGroup.choices)
    summary = models.TextField(
        _("summary"),
        max_length=400,
        help_text=_("One or two plain sentences shown in the list and under the title."),
    )
    description = models.CharField(
        _("one-line description"),
        max_length=150,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "Shown under the page's link in the topics suggested after the questionnaire. "
            "One short line in everyday words a child of 11 would understand, for example "
            "“A bone in the back has slipped forward”."
        ),
    )
    what_it_is = models.TextField(_("what it is"))
    symptoms = models.TextField(_("common symptoms"))
    causes = models.TextField(_("causes"))
    assessment = models.TextField(_("how it is assessed"))
    treatment = models.TextField(_("usual treatments"))
    urgent_help = models.TextField(_("when to get urgent help"))
    # The Spanish version. A page is shown in Spanish only when every one of
    # these is filled in; otherwise Spanish readers get the English page with a
    # note saying so (a half-translated medical page would be worse).
    title_es = models.CharField(
        _("title (Spanish)"), max_length=200, blank=True, default="", db_default=""
    )
    summary_es = models.TextField(
        _("summary (Spanish)"), max_length=400, blank=True, default="", db_default=""
    )
    description_es = models.CharField(
        _("one-line description (Spanish)"),
        max_length=150,
        blank=True,
        default="",
        db_default="",
    )
    what_it_is_es = models.TextField(
        _("what it is (Spanish)"), blank=True, default="", db_default=""
    )
    symptoms_es = models.TextField(
        _("common symptoms (Spanish)"), blank=True, default="", db_default=""
    )
    causes_es = models.TextField(_("causes (Spanish)"), blank=True, default="", db_default="")
    assessment_es = models.TextField(
        _("how it is assessed (Spanish)"), blank=True, default="", db_default=""
    )
    treatment_es = models.TextField(
        _("usual treatments (Spanish)"), blank=True, default="", db_default=""
    )
    urgent_help_es = models.TextField(
        _("when to get urgent help (Spanish)"), blank=True, default="", db_default=""
    )
    show_emergency_box = models.BooleanField(
        _("show as an emergency"),
        default=False,
        help_text=_(
            "Show the “when to get urgent help” text at the top of the page in a red "
            "emergency box, with the emergency phone number."
        ),
    )
    related_codes = models.JSONField(
        _("related questionnaire answers"),
        default=list,
        blank=True,
        validators=[validate_related_codes],
        help_text=_(
            "One per line. A code on its own means the patient answered yes "
            "(leg_numbness); code=answer matches one answer (pain_pattern=back_of_leg, "
            "weak_side=both, saddle_numbness=unsure)."
        ),
    )
    required_codes = models.JSONField(
        _("answers the page needs"),
        default=list,
        # Rows written without this field (older code, the historical models of
        # earlier data migrations) need no answers.
        db_default=[],
        blank=True,
        validators=[validate_related_codes],
        help_text=_(
            "Leave empty, or list answers of which the patient must have given at least "
            "one before this page is suggested, whatever else matches (for diabetic "
            "neuropathy: diabetes and diabetes=unsure). One per line, written as above."
        ),
    )
    is_published = models.BooleanField(
        _("published"),
        default=True,
        help_text=_("Unpublished pages are hidden from patients; staff can still preview them."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)
    reviewed_on = models.DateField(
        _("clinically reviewed on"),
        null=True,
        blank=True,
        help_text=_("The date a clinician last checked this page. Leave empty if not yet."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "title"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        constraints = [
            models.CheckConstraint(
                condition=Q(group__in=ConditionGroup.values),
                name="conditions_condition_group_valid",
            ),
            models.CheckConstraint(
                condition=~Q(slug=""),
                name="conditions_condition_slug_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("conditions:detail", kwargs={"slug": self.slug})

    # Languages --------------------------------------------------------------

    def has_translation(self, language: str) -> bool:
        """Whether every patient-facing field has text in ``language``.

        List queries annotate this (see ``conditions.selectors``) so that their
        deferred section texts are not loaded one page at a time.
        """
        language = _base_code(language)
        if language == BASE_LANGUAGE:
            return True
        if language not in TRANSLATION_LANGUAGES:
            return False
        annotated = self.__dict__.get(translation_annotation_name(language))
        if annotated is not None:
            return bool(annotated)
        return all(getattr(self, name).strip() for name in translated_field_names(language))

    @property
    def content_language(self) -> str:
        """The language the page is shown in for the active language.

        The active language when the page is complete in it, otherwise English.
        """
        language = _base_code(translation.get_language())
        return language if self.has_translation(language) else BASE_LANGUAGE

    @property
    def is_language_fallback(self) -> bool:
        """True when the patient's language is not English but the page is shown in English."""
        return self.content_language != _base_code(translation.get_language())

    def _text(self, name: str) -> str:
        language = self.content_language
        return getattr(self, name if language == BASE_LANGUAGE else f"{name}_{language}")

    @property
    def display_title(self) -> str:
        """The title in the page's content language (what patients see)."""
        return self._text("title")

    @property
    def display_summary(self) -> str:
        return self._text("summary")

    @property
    def display_description(self) -> str:
        """The one-line description in the page's content language; may be empty.

        Never the English line under a Spanish title: a page shown in Spanish
        without its Spanish description shows no description.
        """
        return self._text("description").strip()

    @property
    def display_urgent_help(self) -> str:
        return self._text("urgent_help")

    def sections(self) -> list[tuple[str, str, str]]:
        """``(field name, heading, text)`` for each page section, in page order.

        Text and headings are in the page's content language, so an English
        page shown to a Spanish reader is English throughout.
        """
        language = self.content_language
        with translation.override(language):
            return [
                (name, str(self._meta.get_field(name).verbose_name), self._text(name))
                for name in SECTION_FIELDS
            ]


class ReferenceKind(models.TextChoices):
    ARTICLE = "article", _("Journal article")
    GUIDELINE = "guideline", _("Guideline")


doi_validator = RegexValidator(
    r"^10\.\d{4,9}/\S+$",
    _("Enter a DOI such as 10.1000/xyz123, without “https://doi.org/”."),
)
pmid_validator = RegexValidator(r"^[1-9]\d{0,8}$", _("Enter a PubMed ID: digits only."))


class Reference(models.Model):
    """One entry in a page's reference list.

    A journal article must carry a DOI or a PubMed ID so readers can find it; a
    guideline (for example NICE or GIRFT) may have neither.
    """

    condition = models.ForeignKey(
        Condition,
        on_delete=models.CASCADE,
        related_name="references",
        verbose_name=_("condition"),
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ReferenceKind.choices, default=ReferenceKind.ARTICLE
    )
    authors = models.CharField(
        _("authors"),
        max_length=500,
        help_text=_("For a guideline, the organisation that wrote it."),
    )
    title = models.CharField(_("title"), max_length=500)
    journal = models.CharField(
        _("journal or publisher"), max_length=300, blank=True, help_text=_("Abbreviated name.")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    volume = models.CharField(
        _("volume (issue)"), max_length=40, blank=True, help_text=_("For example 54(3).")
    )
    pages = models.CharField(_("pages"), max_length=40, blank=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True, validators=[doi_validator])
    pmid = models.CharField(_("PubMed ID"), max_length=12, blank=True, validators=[pmid_validator])
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("reference")
        verbose_name_plural = _("references")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ReferenceKind.GUIDELINE) | ~Q(doi="") | ~Q(pmid=""),
                name="conditions_reference_article_has_doi_or_pmid",
                violation_error_message=_("A journal article needs a DOI or a PubMed ID."),
            ),
            models.CheckConstraint(
                condition=Q(doi="") | Q(doi__startswith="10."),
                name="conditions_reference_doi_format",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1900) & Q(year__lte=2100),
                name="conditions_reference_year_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.authors} ({self.year}). {self.title}"

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""
