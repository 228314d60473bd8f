"""The questionnaire's forms: each form made has fields of its own."""

import pytest
from django import forms

from intake.forms import STEPS


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.slug)
def test_each_form_has_its_own_fields_and_the_same_choices(step):
    first, second = step.form_class(), step.form_class()
    for code, field in first.fields.items():
        assert field is not second.fields[code]
        assert field.widget is not second.fields[code].widget
        assert field.widget.attrs is not second.fields[code].widget.attrs
        assert field.error_messages is not second.fields[code].error_messages
        assert field.validators is not second.fields[code].validators
        for part, other in zip(
            getattr(field.widget, "widgets", []),
            getattr(second.fields[code].widget, "widgets", []),
            strict=True,
        ):
            assert part is not other
            assert part.attrs is not other.attrs
        if isinstance(field, forms.ChoiceField):
            assert field.choices == step.form_class.base_fields[code].choices
            assert field.widget.choices == field.choices


def test_new_choices_on_one_form_leave_the_others_alone():
    legs = next(step for step in STEPS if step.slug == "legs").form_class
    changed, untouched = legs(), legs()
    original = list(untouched.fields["weak_side"].choices)

    changed.fields["weak_side"].choices = [("left", "Left")]

    assert list(untouched.fields["weak_side"].choices) == original
    assert list(legs().fields["weak_side"].choices) == original
    assert list(legs.base_fields["weak_side"].choices) == original
    assert not legs(data={"weak_side": "left"}).has_error("weak_side")


def test_a_changed_widget_leaves_the_other_forms_alone():
    about = next(step for step in STEPS if step.slug == "about").form_class
    changed = about()
    changed.fields["phone"].widget.attrs["class"] = "changed"
    changed.fields["date_of_birth"].widget.widgets[0].attrs["class"] = "changed"
    changed.fields["phone"].error_messages["required"] = "changed"

    fresh = about()
    assert "class" not in fresh.fields["phone"].widget.attrs
    assert fresh.fields["date_of_birth"].widget.widgets[0].attrs.get("class") != "changed"
    assert fresh.fields["phone"].error_messages["required"] != "changed"
