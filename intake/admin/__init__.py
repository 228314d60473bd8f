"""The staff admin, a package from now on: its screens move into modules of their own."""

from .cases import CaseAdmin, EstimatedCountPaginator, PatientAdmin, RedFlagCaseAdmin

__all__ = ["CaseAdmin", "EstimatedCountPaginator", "PatientAdmin", "RedFlagCaseAdmin"]
