"""factory_boy factories for the education library (all obviously made-up text)."""

import factory

from conditions.models import Condition, ConditionGroup, Reference, ReferenceKind


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    slug = factory.Sequence(lambda n: f"test-condition-{n}")
    title = factory.Sequence(lambda n: f"Test condition {n}")
    group = ConditionGroup.MUSCLE_JOINT
    summary = "A made-up page for tests."
    what_it_is = "What it is."
    symptoms = "- one symptom\n- another symptom"
    causes = "Causes."
    assessment = "Assessment."
    treatment = "Treatment."
    urgent_help = "Urgent help."
    related_codes = factory.LazyFunction(list)
    is_published = True
    sort_order = 500


class ReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reference

    condition = factory.SubFactory(ConditionFactory)
    kind = ReferenceKind.ARTICLE
    authors = "Example A, Sample B"
    title = factory.Sequence(lambda n: f"A made-up study number {n}")
    journal = "J Test"
    year = 2020
    doi = factory.Sequence(lambda n: f"10.5555/test.{n}")
