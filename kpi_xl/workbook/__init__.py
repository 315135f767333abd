"""Workbook I/O adapters: xlsx parts headless (zip + XML), xlwings ``Book`` live."""
