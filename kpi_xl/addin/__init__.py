"""The classic Excel add-in (install/windows/kpi_xl.xlam), built by code.

``python -m kpi_xl.addin build`` regenerates it from ``xlwings quickstart --addin --ribbon``;
see :mod:`kpi_xl.addin.build` for what is taken over and what is rewritten, and
:mod:`kpi_xl.addin.ovba` / :mod:`kpi_xl.addin.cfb` for the VBA storage it edits.
"""
