"""Reporting reads go to the replica only when asked and only when one exists."""

import pytest

from clinic.db_routers import ReplicaRouter, reporting_reads
from intake.models import Case

# The router only reads the list of configured databases; nothing connects.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


def test_everything_reads_the_primary_by_default(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    assert ReplicaRouter().db_for_read(Case) is None


def test_reporting_reads_use_the_replica_when_configured(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    with reporting_reads():
        assert ReplicaRouter().db_for_read(Case) == "replica"
    assert ReplicaRouter().db_for_read(Case) is None


def test_reporting_reads_fall_back_to_the_primary_without_a_replica(settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    with reporting_reads():
        assert ReplicaRouter().db_for_read(Case) is None


def test_writes_and_migrations_stay_on_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(Case) is None
    assert router.allow_migrate("default", "intake") is True
    assert router.allow_migrate("replica", "intake") is False
