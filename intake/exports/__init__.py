"""Everything that takes cases out of the staff site.

``summary.py`` (the printable case summary), ``pdf.py`` (the same summary as a
PDF), ``fhir.py`` (FHIR R4 resources), ``csv.py`` (the case list as CSV),
``patient_record.py`` (all held about one patient, for a records request);
``views.py`` is the staff FHIR API and ``admin.py`` the case admin's export
screens and CSV action.
"""
