"""Your own music (part 4 of the book, chapter 11): one prediction path for every model.

A model that classifies audio files is a front end (audio file -> one feature row per segment or
patch, run in worker processes) and a classifier (rows -> genre probabilities, run here), behind one
:func:`~mgc_helpers.predict.run.predict_paths`, one report and one CSV/JSON schema.

==============  ========================================================  ==========
module          what it holds                                             chapter(s)
==============  ========================================================  ==========
``classifier``  the protocol (front end + classifier); the book's models  11
``report``      a track's prediction, the report, its formats and writer  11
``run``         finding audio files; ``predict_paths`` over workers       11
==============  ========================================================  ==========
"""
