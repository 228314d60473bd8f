"""The questionnaire: one form per step, each field named by its stable code.

Every symptom field's name is its SPEC code, the key its answer is stored
under and the key triage reads. Wording is plain English at a reading age of
about 11, with a hint wherever a term might be unfamiliar.
"""

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from babel.dates import get_month_names
from crispy_forms.helper import FormHelper
from django import forms
from django.forms.boundfield import BoundField
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import triage

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
YES_NO_UNSURE = [*YES_NO, ("unsure", _("Not sure"))]

REQUIRED_MESSAGE = _("Please choose an answer.")
RED_FLAG_REQUIRED_MESSAGE = _(
    "Please answer this question. It helps us spot problems that need care straight away."
)
MAX_AGE_YEARS = 120
# An appointment further ahead than this is a typing mistake (e.g. the year 9999).
MAX_APPOINTMENT_YEARS = 2

# Phone numbers: digits with the usual separators, at least 7 digits.
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{7,30}$")


#: format_html when the page is drawn, in the patient's language.
format_html_lazy = lazy(format_html, SafeString)

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _month_number_by_name() -> dict[str, int]:
    """Month names and short names in every language we offer (English, Spanish), folded."""
    names = {}
    for locale in ("en", "es"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                names[_fold(name)] = number
    # Common forms that Babel does not list.
    names.setdefault("sept", 9)
    names.setdefault("setiembre", 9)  # the spelling in much of Latin America
    return names


def _fold(text: str) -> str:
    """Lower case without accents or a trailing full stop: "Marzo", "marzo" and "MAR." match."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower().rstrip("."))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


MONTH_NUMBERS = _month_number_by_name()


class DatePartsWidget(forms.MultiWidget):
    """Day, month and year as three boxes, the way GOV.UK and the NHS ask for dates.

    A typed date such as 05/04/1951 means 5 April in Spain and May 4 in the
    United States, and a browser's date picker shows it in the device's order;
    three labelled boxes leave nothing to guess. The month may be a number or
    a name ("3", "March", "marzo", "mar").

    A single ISO date under the field's own name (``date_of_birth=1956-03-27``,
    as a native date input sends it; SPEC "The questionnaire") is read too, so
    API clients and older saved answers still work.
    """

    template_name = "intake/widgets/date_parts.html"
    PARTS = ("day", "month", "year")

    def __init__(self, attrs=None, *, autocomplete: str | None = None):
        def box(part, extra):
            attributes = {"class": f"date-part-{part}", "spellcheck": "false", **extra}
            if autocomplete:
                attributes["autocomplete"] = f"{autocomplete}-{part}"
            return forms.TextInput(attributes)

        numeric = {"inputmode": "numeric"}
        super().__init__(
            {"day": box("day", numeric), "month": box("month", {}), "year": box("year", numeric)},
            attrs,
        )

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # A box marked invalid is described by the field's message, as other fields are.
        for box in context["widget"]["subwidgets"]:
            if box["attrs"].get("aria-invalid") and attrs and attrs.get("id"):
                box["attrs"]["aria-describedby"] = f"{attrs['id']}_error"
        return context

    def decompress(self, value):
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        if isinstance(value, str) and ISO_DATE.match(value):
            year, month, day = value.split("-")
            return [str(int(day)), str(int(month)), year]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        parts = super().value_from_datadict(data, files, name)
        if any(part and part.strip() for part in parts):
            return parts
        return data.get(name) or parts

    def value_omitted_from_data(self, data, files, name):
        return name not in data and super().value_omitted_from_data(data, files, name)


class DatePartsField(forms.Field):
    """A date from day, month and year boxes (or an ISO date); see ``DatePartsWidget``.

    ``day_optional``: for a best guess such as "March 2026", the day may be
    left empty and the first of the month is stored.
    """

    widget = DatePartsWidget
    default_error_messages = {
        "invalid": _("Please enter a real date."),
        "missing_day": _("Please add the day."),
        "missing_month": _("Please add the month."),
        "missing_year": _("Please add the year."),
        "month": _("Please write the month as a number from 1 to 12, or as its name."),
        "year": _("Please write the year with 4 numbers, for example 1956."),
    }

    def __init__(self, *, day_optional: bool = False, **kwargs):
        self.day_optional = day_optional
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            if not value.strip():
                return None
            if not ISO_DATE.match(value.strip()):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
        if not value:
            return None
        day, month, year = ((part or "").strip() for part in value)
        if not (day or month or year):
            return None
        for code, part in (("missing_day", day), ("missing_month", month), ("missing_year", year)):
            if not part and not (code == "missing_day" and self.day_optional):
                raise forms.ValidationError(self.error_messages[code], code=code)
        month_number = self._month(month)
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise forms.ValidationError(self.error_messages["year"], code="year")
        if day and not (day.isascii() and day.isdigit() and len(day) <= 2):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return datetime.date(int(year), month_number, int(day) if day else 1)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def _month(self, month: str) -> int:
        if month.isascii() and month.isdigit() and 1 <= int(month) <= 12:
            return int(month)
        number = MONTH_NUMBERS.get(_fold(month))
        if number is None:
            raise forms.ValidationError(self.error_messages["month"], code="month")
        return number


class LimitedTextMixin:
    """A length limit the patient is told about, never one that silently cuts their words.

    Browsers stop typing, and cut pasted text, at an input's ``maxlength``
    without a word. So the limit is not put on the page as ``maxlength``: it is
    shown as a hint (and counted live by static/js/intake.js, through
    ``data-limit``), and text over it gets a clear message with both numbers.
    """

    too_long_message = _(
        "This is too long. Please make it %(limit)s characters or fewer. It has %(count)s now."
    )

    def __init__(self, *, limit: int, **kwargs):
        self.limit = limit
        self.base_help_text = kwargs.get("help_text", "")
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.Textarea):  # see ``counted``
            attrs["data-limit"] = str(self.limit)
        return attrs

    @property
    def counted(self) -> bool:
        """A box for free text shows its count; a name or phone number needs none."""
        return isinstance(self.widget, forms.Textarea)

    def validate(self, value):
        super().validate(value)
        if value and len(value) > self.limit:
            raise forms.ValidationError(
                self.too_long_message,
                code="max_length",
                params={
                    "limit": number_format(self.limit, force_grouping=True),
                    "count": number_format(len(value), force_grouping=True),
                },
            )


class LimitedCharField(LimitedTextMixin, forms.CharField):
    pass


def character_count_texts() -> dict[str, str]:
    """The counts under a text with a limit, for the server and static/js/intake.js alike."""
    return _character_count_texts(get_language())


@functools.cache
def _character_count_texts(language: str | None) -> dict[str, str]:
    return {
        "limit": gettext("You can write up to %(limit)s characters."),
        "left_one": ngettext(
            "You have %(count)s character left.", "You have %(count)s characters left.", 1
        ),
        "left": ngettext(
            "You have %(count)s character left.", "You have %(count)s characters left.", 2
        ),
        "over_one": ngettext(
            "You have %(count)s character too many.", "You have %(count)s characters too many.", 1
        ),
        "over": ngettext(
            "You have %(count)s character too many.", "You have %(count)s characters too many.", 2
        ),
    }


def _shallow_copy(thing):
    """A copy sharing every attribute: ``copy.copy`` without its slower, general protocol."""
    copied = object.__new__(type(thing))
    copied.__dict__ = thing.__dict__.copy()
    return copied


def _copy_widget(widget: forms.Widget) -> forms.Widget:
    """A widget's own copy as Django's ``Widget.__deepcopy__`` makes it, choices shared."""
    copied = _shallow_copy(widget)
    copied.attrs = widget.attrs.copy()
    if isinstance(widget, forms.MultiWidget):
        copied.widgets = [_copy_widget(part) for part in widget.widgets]
    return copied


def _copy_field(field: forms.Field) -> forms.Field:
    """A field's own copy as Django's ``Field.__deepcopy__`` makes it, choices shared."""
    copied = _shallow_copy(field)
    copied.widget = _copy_widget(field.widget)
    copied.error_messages = field.error_messages.copy()
    copied.validators = field.validators[:]
    return copied


class StepFields(dict):
    """A step form's declared fields, copied quickly for each form made.

    Django gives every form it makes its own deep copy of each field (and its
    widget), so that one form can change its fields without touching the
    others. On every page of the questionnaire that copy, mostly of the lists
    of translatable choices and through ``copy``'s general protocol, was a
    large part of the cost of the page (docs/performance.md, section 6). Each
    form still gets its own fields, widgets, attributes, error messages and
    validators; only the choices are shared. Nothing changes a list of choices
    in place, and setting new choices on a field replaces its list.
    """

    def __deepcopy__(self, memo):
        return {name: _copy_field(field) for name, field in self.items()}


class StepFormMetaclass(DeclarativeFieldsMetaclass):
    """Django's metaclass for forms, with the declared fields kept as ``StepFields``."""

    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = StepFields(new_class.base_fields)
        return new_class


def yes_no_field(label, help_text="", *, unsure=False, red_flag=False, choices=None):
    return forms.ChoiceField(
        label=label,
        help_text=help_text,
        choices=choices or (YES_NO_UNSURE if unsure else YES_NO),
        widget=forms.RadioSelect,
        error_messages={"required": RED_FLAG_REQUIRED_MESSAGE if red_flag else REQUIRED_MESSAGE},
    )


def reject_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise forms.ValidationError(_("Please remove any special or invisible characters."))


def years_from(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later (or earlier, if negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


class QuestionBoundField(BoundField):
    """A question's block on the page, hidden (class ``d-none``) when it is not asked.

    A question asked only for some answers to an earlier one (``CONDITIONAL_QUESTIONS``)
    is left out of the page until the answers given so far ask it, so it works
    without JavaScript; static/js/intake.js shows it the moment they do.
    """

    def css_classes(self, extra_classes=None):
        classes = super().css_classes(extra_classes)
        # A layout of its own for a question that needs one (the pain scale).
        classes = f"{classes} {getattr(self.field, 'wrapper_class', '')}".strip()
        if self.form.is_asked_now(self.name):
            return classes
        return f"{classes} d-none".strip()


class QuestionnaireStepForm(forms.Form, metaclass=StepFormMetaclass):
    """Shared behaviour: crispy rendering inside our own <form>, and clean JSON answers.

    ``date_of_birth`` is the patient's, from the first step, when the page is
    part of their questionnaire: a step can then check its dates against the
    patient's lifetime. Without it (a form used on its own) those checks that
    need it are skipped.

    ``initial`` may be a step's saved raw answers (as posted): a date saved as
    day, month and year boxes is put back into its boxes.
    """

    bound_field_class = QuestionBoundField

    def __init__(
        self, *args, date_of_birth: datetime.date | None = None, follow_up: bool = False, **kwargs
    ):
        initial = kwargs.get("initial")
        if initial:
            kwargs["initial"] = self._with_date_parts(initial)
        super().__init__(*args, **kwargs)
        self.date_of_birth = date_of_birth
        self.follow_up = follow_up
        for code in FOLLOW_UP_ONLY & set(self.fields):
            if follow_up:
                self.fields[code].required = True
            else:
                del self.fields[code]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        for name, field in self.fields.items():
            if isinstance(field, LimitedTextMixin) and field.counted:
                field.help_text = self._limit_hint(field, self[name].value())
                del self._bound_fields_cache[name]  # made with the hint before the count

    @classmethod
    def _with_date_parts(cls, raw: dict) -> dict:
        initial = dict(raw)
        for name, field in cls.base_fields.items():
            if isinstance(field, DatePartsField):
                parts = [raw.get(f"{name}_{part}") for part in DatePartsWidget.PARTS]
                if any(parts):
                    initial[name] = parts
        return initial

    @staticmethod
    def _limit_hint(field: LimitedTextMixin, value) -> str:
        """The field's hint with how much may be written: a count that works without JavaScript.

        static/js/intake.js replaces the count (class ``static-count``) with a live one.
        """
        texts = character_count_texts()
        used = len(value or "")
        left = field.limit - used
        if not used:
            count = texts["limit"] % {"limit": number_format(field.limit, force_grouping=True)}
        else:
            key = (
                ("left_one" if left == 1 else "left")
                if left >= 0
                else ("over_one" if left == -1 else "over")
            )
            count = texts[key] % {"count": number_format(abs(left), force_grouping=True)}
        hint = field.base_help_text
        count_html = format_html('<span class="static-count">{}</span>', count)
        return format_html("{} {}", hint, count_html) if hint else count_html

    @classmethod
    def data_keys(cls) -> list[str]:
        """The names a post of this step may carry: each field's, and each date box's."""
        keys = []
        for name, field in cls.base_fields.items():
            keys.append(name)
            if isinstance(field, DatePartsField):
                keys.extend(f"{name}_{part}" for part in DatePartsWidget.PARTS)
        return keys

    def is_asked_now(self, code: str) -> bool:
        """Whether the answers on this page so far ask the question ``code``."""
        rule = CONDITIONAL_QUESTIONS.get(code)
        if rule is None:
            return True
        source = self.data if self.is_bound else self.initial
        return source.get(rule.controller) in rule.asked_for

    def answers(self) -> dict[str, object]:
        """The cleaned answers as JSON-friendly values (dates as ISO strings)."""
        result = {}
        for code, value in self.cleaned_data.items():
            if value is None or value == "":
                continue
            result[code] = value.isoformat() if isinstance(value, datetime.date) else value
        return result


class NameField(LimitedCharField):
    def __init__(self, *, required_message, **kwargs):
        super().__init__(
            limit=100,
            validators=[reject_control_characters],
            error_messages={"required": required_message},
            **kwargs,
        )


class AboutYouForm(QuestionnaireStepForm):
    first_name = NameField(
        label=_("First name"),
        required_message=_("Please enter your first name."),
        widget=forms.TextInput({"autocomplete": "given-name"}),
    )
    last_name = NameField(
        label=_("Last name"),
        required_message=_("Please enter your last name."),
        widget=forms.TextInput({"autocomplete": "family-name"}),
    )
    date_of_birth = DatePartsField(
        label=_("Date of birth"),
        help_text=_("For example, 27 3 1956. You can write the month as a word."),
        widget=DatePartsWidget(autocomplete="bday"),
        error_messages={
            "required": _("Please enter your date of birth."),
            "missing_day": _("Please add the day you were born."),
            "missing_month": _("Please add the month you were born."),
            "missing_year": _("Please add the year you were born."),
            "invalid": _("Please enter a real date, for example 27 3 1956."),
        },
    )
    phone = LimitedCharField(
        label=_("Phone number"),
        help_text=_("We may call you about your answers."),
        limit=30,
        widget=forms.TextInput({"type": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("Please enter a phone number we can call you on.")},
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        max_length=254,
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    appointment_date = DatePartsField(
        label=_("Date of your appointment (optional)"),
        help_text=_("For example, 4 12 2026. Leave this empty if you do not have one yet."),
        required=False,
        error_messages={"invalid": _("Please enter a real date, or leave this empty.")},
    )
    consent = forms.BooleanField(
        label=_(
            "I understand that nobody watches this form all the time. If I feel very unwell "
            "or get worse, I will call the emergency number or go to an emergency department."
        ),
        error_messages={"required": _("Please tick this box to show you have read it.")},
    )

    #: In a follow-up the clinic has these already: sent back as they are, not shown
    #: (only the statement about emergencies is asked again).
    KNOWN_IN_FOLLOW_UP = ("first_name", "last_name", "date_of_birth", "phone", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.follow_up:
            for name in self.KNOWN_IN_FOLLOW_UP:
                self.fields[name].widget = forms.HiddenInput()
            del self.fields["appointment_date"]

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip()

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("Your date of birth cannot be in the future."))
        if born == today:
            # SPEC: "a real past date". Nobody fills this in on the day they are born.
            raise forms.ValidationError(_("Your date of birth cannot be today. Please check it."))
        if born < years_from(today, -MAX_AGE_YEARS):
            raise forms.ValidationError(
                _("Please check the year. The date of birth is more than 120 years ago.")
            )
        return born

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = re.sub(r"\D", "", phone)
        if not PHONE_PATTERN.match(phone) or len(digits) < 7:
            raise forms.ValidationError(
                _("Please enter a phone number using digits, for example 555 010 0123.")
            )
        return phone

    def clean_appointment_date(self):
        day = self.cleaned_data.get("appointment_date")
        today = timezone.localdate()
        if day and day < today:
            raise forms.ValidationError(
                _("The appointment date is in the past. Please check it or leave it empty.")
            )
        if day and day > years_from(today, MAX_APPOINTMENT_YEARS):
            raise forms.ValidationError(
                _(
                    "The appointment date is more than 2 years away. "
                    "Please check it or leave it empty."
                )
            )
        return day

    def answers(self) -> dict[str, object]:
        result = super().answers()
        result["consent"] = True
        return result


WEAK_SIDE_CHOICES = [
    ("left", _("My left leg")),
    ("right", _("My right leg")),
    ("both", _("Both legs")),
    ("neither", _("Neither leg feels weak")),
]
ONSET_CHOICES = [
    ("hours", _("Within hours")),
    ("days", _("Over a few days")),
    ("weeks", _("Over weeks or longer")),
]
TREND_CHOICES = [
    ("worse", _("It is getting worse")),
    ("same", _("It is staying the same")),
    ("better", _("It is getting better")),
]
WEAK_SIDES = triage.WEAK_SIDES


@dataclass(frozen=True)
class AskedWhen:
    """A question asked only for some answers to an earlier one on the same step.

    ``not_asked_for``: the answer for which it is not asked (how FHIR says it).
    """

    controller: str
    asked_for: tuple[str, ...]
    not_asked_for: str
    required_message: str


#: SPEC "Your legs": the weakness details only when a leg is weak; falls only
#: when a leg has given way or the patient is not sure. The form, the staff
#: screens, FHIR and the page's script all read this one table.
CONDITIONAL_QUESTIONS: dict[str, AskedWhen] = {
    "weakness_onset": AskedWhen(
        "weak_side", WEAK_SIDES, "neither", _("Please tell us how fast the weakness came on.")
    ),
    "weakness_trend": AskedWhen(
        "weak_side", WEAK_SIDES, "neither", _("Please tell us if the weakness is changing.")
    ),
    "falls": AskedWhen(
        "leg_gives_way", ("yes", "unsure"), "no", _("Please tell us if you have fallen.")
    ),
}


def is_asked(code: str, answers) -> bool:
    """Whether the question ``code`` was asked, given the other answers.

    A follow-up's own question (``FOLLOW_UP_ONLY``) was asked only in a
    follow-up, where it must be answered.
    """
    if code in FOLLOW_UP_ONLY:
        return code in answers
    rule = CONDITIONAL_QUESTIONS.get(code)
    return rule is None or answers.get(rule.controller) in rule.asked_for


#: "Compared with last time, your legs are:" (issue 22): a global impression of
#: change, in our own words (not a licensed instrument), from worse to better.
CHANGE_CHOICES = [
    ("much_worse", _("Much worse")),
    ("a_little_worse", _("A little worse")),
    ("same", _("The same")),
    ("a_little_better", _("A little better")),
    ("much_better", _("Much better")),
]
#: Questions asked only in a follow-up questionnaire; a first one leaves them out.
FOLLOW_UP_ONLY = frozenset({"change_since_last"})


class LegsForm(QuestionnaireStepForm):
    change_since_last = forms.ChoiceField(
        label=_("Compared with last time you answered, your legs are:"),
        choices=CHANGE_CHOICES,
        widget=forms.RadioSelect,
        required=False,  # required in a follow-up, left out otherwise (__init__)
        error_messages={"required": REQUIRED_MESSAGE},
    )
    leg_gives_way = yes_no_field(
        _("Has a leg given way or buckled under you all of a sudden?"),
        _("For example, your knee gave way and you nearly fell or did fall."),
        unsure=True,
    )
    weak_side = forms.ChoiceField(
        label=_("Which leg feels weak?"),
        choices=WEAK_SIDE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": REQUIRED_MESSAGE},
    )
    weakness_onset = forms.ChoiceField(
        label=_("How fast did the weakness come on?"),
        choices=ONSET_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    weakness_trend = forms.ChoiceField(
        label=_("Is the weakness changing?"),
        choices=TREND_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    symptoms_started = DatePartsField(
        label=_("When did these leg problems start?"),
        help_text=_(
            "Your best guess is fine. If you do not know the day, give the month and year."
        ),
        day_optional=True,
        error_messages={
            "required": _("Please give at least the month and year. Your best guess is fine."),
            "missing_month": _("Please add the month. Your best guess is fine."),
            "missing_year": _("Please add the year. Your best guess is fine."),
            "invalid": _("Please enter a real date. Your best guess is fine."),
        },
    )
    falls = forms.ChoiceField(
        label=_("Have you fallen because a leg gave way?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    foot_lift_difficulty = yes_no_field(
        _("Is it hard to lift the front of your foot?"),
        _("For example, your toes catch on the ground or your foot slaps down when you walk."),
    )
    leg_lift_difficulty = yes_no_field(
        _("Is it hard to lift your whole leg?"),
        _("For example, climbing stairs or getting into a car."),
    )
    balance_problems = yes_no_field(_("Do you feel unsteady when you walk, or lose your balance?"))

    def clean_symptoms_started(self):
        day = self.cleaned_data["symptoms_started"]
        today = timezone.localdate()
        if day > today:
            raise forms.ValidationError(_("This date is in the future. Please check it."))
        if self.date_of_birth is not None and day < self.date_of_birth:
            raise forms.ValidationError(
                _("This date is before your date of birth. Please check both dates.")
            )
        if day < years_from(today, -MAX_AGE_YEARS):
            raise forms.ValidationError(
                _("Please check the year. This date is more than 120 years ago.")
            )
        return day

    def clean(self):
        cleaned = super().clean()
        for code, rule in CONDITIONAL_QUESTIONS.items():
            answer = cleaned.get(rule.controller)
            if answer in rule.asked_for:
                if not cleaned.get(code):
                    self.add_error(code, rule.required_message)
            elif answer is not None:
                # Not asked: drop anything the patient ticked anyway, so it is
                # stored as absent, never as an answer.
                cleaned.pop(code, None)
        return cleaned


PAIN_PATTERN_CHOICES = [
    ("back_of_leg", _("Down the back or side of the leg, sometimes into the foot")),
    ("front_of_thigh", _("The front of the thigh or the groin")),
    ("buttock", _("The buttock, near the tailbone")),
    ("other", _("Somewhere else")),
    ("none", _("I do not have leg pain")),
]
PAIN_SCORE_CHOICES = [(str(n), str(n)) for n in range(11)]


class PainForm(QuestionnaireStepForm):
    back_pain = yes_no_field(_("Do you have pain in your lower back?"))
    pain_pattern = forms.ChoiceField(
        label=_("Where does your leg pain go?"),
        help_text=_("Choose the one that fits best."),
        choices=PAIN_PATTERN_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": REQUIRED_MESSAGE},
    )
    pain_both_legs = yes_no_field(
        _(
            "Is there pain shooting down both of your legs that is new, or worse, in the "
            "last few weeks?"
        ),
        _("Pain that goes down one leg only is not this."),
    )
    pain_score = forms.TypedChoiceField(
        label=_("How bad was your worst pain in the last week?"),
        # The words at the two ends are drawn under the scale for the eye; the
        # sentence after them describes the scale to a screen reader.
        help_text=format_html_lazy(
            '<span class="pain-scale-words" aria-hidden="true"><span>{}</span><span>{}</span>'
            '</span><span class="visually-hidden">{}</span>',
            _("0: no pain"),
            _("10: the worst pain you can imagine"),
            _("0 means no pain. 10 means the worst pain you can imagine."),
        ),
        choices=PAIN_SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": REQUIRED_MESSAGE},
    )
    pain_score.wrapper_class = "pain-scale"
    leg_numbness = yes_no_field(_("Do you have numbness, tingling or pins and needles in a leg?"))
    feet_numbness = yes_no_field(_("Do both feet feel numb or burn, as if you were wearing socks?"))
    burning_pain = yes_no_field(
        _("Do you have burning, aching or sharp shooting pain in a leg?"),
        _("This kind of pain often comes from an irritated nerve."),
    )
    walking_pain = yes_no_field(
        _(
            "When you walk for a while, do your legs hurt or feel weak? Does this get better "
            "when you sit down or bend forward?"
        ),
        _("Doctors call this neurogenic claudication."),
    )
    night_pain = yes_no_field(
        _("Does pain in your back wake you up at night, or stop you from sleeping?"),
    )


class WarningSignsForm(QuestionnaireStepForm):
    """The cauda equina questions, asked of everyone, worded like patient warning cards."""

    saddle_numbness = yes_no_field(
        _("Is there new numbness, tingling or an odd feeling between your legs?"),
        _(
            "This means around your genitals (including less feeling in the vagina or penis), "
            "your back passage (bottom), your buttocks or your inner thighs. It may feel "
            "different when you wipe with toilet paper. A small patch, or one side only, counts."
        ),
        unsure=True,
        red_flag=True,
    )
    bladder_retention = yes_no_field(
        _("Is it newly hard to pee?"),
        _("For example, nothing comes out, or you have to push or strain to start."),
        unsure=True,
        red_flag=True,
    )
    bladder_sensation = yes_no_field(
        _("Is it newly hard to feel when your bladder is full, or when you pee?"),
        _(
            "For example, the urge to go has gone, you do not know if your bladder is full "
            "or empty, or the pee feels numb as it comes out."
        ),
        unsure=True,
        red_flag=True,
    )
    bladder_stream = yes_no_field(
        _("Is your flow of pee newly weak or slow?"),
        unsure=True,
        red_flag=True,
    )
    bladder_incontinence = yes_no_field(
        _("Have you started leaking pee without warning?"),
        _("For example, you now need to wear pads. Only count leaking that is new."),
        unsure=True,
        red_flag=True,
    )
    bowel_incontinence = yes_no_field(
        _("Is it newly hard to control your bowels, or to feel when you need to poo?"),
        unsure=True,
        red_flag=True,
    )
    sexual_dysfunction = yes_no_field(
        _("Is there a new problem with your sexual function?"),
        _(
            "For example, less feeling during sex, or trouble getting or keeping an "
            "erection. You can choose not to say."
        ),
        red_flag=True,
        choices=[*YES_NO, ("unsure", _("I would rather not say"))],
    )


class HealthForm(QuestionnaireStepForm):
    diabetes = yes_no_field(_("Do you have diabetes?"), unsure=True)
    cancer_history = yes_no_field(_("Do you have cancer now, or have you had it in the past?"))
    weight_loss = yes_no_field(_("Have you lost weight recently without trying?"))
    fever = yes_no_field(
        _("Have you had a fever (a high temperature), shivers or chills with the back or leg pain?")
    )
    infection_risk = yes_no_field(
        _("Is any of these true for you?"),
        _(
            "You inject drugs. Or your body is less able to fight germs, for example because "
            "of an illness, steroids or cancer drugs. Or you had an operation, an injection or "
            "an infection in your spine not long ago."
        ),
    )
    recent_trauma = yes_no_field(
        _("Have you hurt your back or leg in the last few weeks?"),
        _("For example, in a fall, an accident or while playing sport."),
    )
    steroid_use = yes_no_field(
        _("Have you taken steroid tablets for 3 months or longer, now or in the last year?"),
        _("For example, prednisolone."),
    )
    osteoporosis = yes_no_field(
        _("Has a doctor told you that you have thin or weak bones (osteoporosis)?"),
        unsure=True,
    )
    statin_use = yes_no_field(
        _("Do you take a statin?"),
        _("Statins lower cholesterol. Examples are atorvastatin and simvastatin."),
    )
    recent_illness = yes_no_field(
        _("Have you been unwell in the last few weeks?"),
        _(
            "For example, you had an infection, you could not drink enough, or you felt much "
            "more tired than usual."
        ),
    )
    medications = LimitedCharField(
        label=_("What medicines do you take? (optional)"),
        help_text=_("Include tablets, injections, patches and anything you buy yourself."),
        required=False,
        limit=1000,
        widget=forms.Textarea({"rows": 3}),
    )
    other_notes = LimitedCharField(
        label=_("Is there anything else you want us to know? (optional)"),
        required=False,
        limit=2000,
        widget=forms.Textarea({"rows": 4}),
    )


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    intro: str
    form_class: type[QuestionnaireStepForm]


STEPS: tuple[Step, ...] = (
    Step(
        "about",
        _("About you"),
        _("We use these details to find your records and to contact you."),
        AboutYouForm,
    ),
    Step(
        "legs",
        _("Your legs"),
        _("These questions are about weakness in your legs."),
        LegsForm,
    ),
    Step(
        "pain",
        _("Pain and feeling"),
        _("These questions are about pain, and about feeling numb or tingly."),
        PainForm,
    ),
    Step(
        "warning-signs",
        _("Important warning signs"),
        _(
            "We ask everyone these questions. They are about changes that are new in the last "
            "2 weeks, or getting worse. They can feel personal, but they help us find people "
            "who need care straight away. Please answer each one."
        ),
        WarningSignsForm,
    ),
    Step(
        "health",
        _("Your health"),
        _("These questions are about your general health."),
        HealthForm,
    ),
)
STEP_BY_SLUG = {step.slug: step for step in STEPS}

PATIENT_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "email")
