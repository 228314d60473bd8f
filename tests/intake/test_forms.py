"""The questionnaire's forms: each form made has fields of its own."""

import pytest

from intake.forms import STEPS, FixedChoicesMixin


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.slug)
def test_each_form_has_its_own_fields_and_the_same_choices(step):
    first, second = step.form_class(), step.form_class()
    for code, field in first.fields.items():
        assert field is not second.fields[code]
        assert field.widget is not second.fields[code].widget
        if isinstance(field, FixedChoicesMixin):
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
