"""Book tooling: rebuilding the book, what produced its outputs, and the guards of its numbers.

================  ========================================================  ==========
module            what it holds                                             chapter(s)
================  ========================================================  ==========
``glued``         the numbers the prose states, kept for guards             01-05, 07-14
``spread``        the spread of each glued number over seeds                10
``checks``        the chapters' regression guards                           06-14
``chapter``       one set-up for every data chapter                         06-14
``provenance``    what produced the stored outputs                          10
``execute``       running one chapter with papermill, locating a failure    10
``reproduce``     rebuilding the book (``mgc reproduce``)                   10
================  ========================================================  ==========
"""
