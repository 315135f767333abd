"""The pure core: no xlwings, no file I/O. Columns in, columns out."""
