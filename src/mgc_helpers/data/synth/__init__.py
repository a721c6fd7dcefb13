"""The embedded synthetic genre dataset: GTZAN-shaped, generated at run time (chapter 06).

GTZAN cannot be downloaded here, so the book's default dataset is music written by code: ten genre
styles, six synthetic artists per genre with their own sound, and per-clip variation, rendered with
classic synthesis techniques and written in GTZAN's folder layout so that one loader reads both.
Explained in ``06_dataset.ipynb``.

Import each name from the module that holds it; the main entry points are

* :func:`.dataset.generate_dataset` (the dataset on disk) and :func:`.dataset.synthetic_dir` (its folder);
* :func:`.render.render_clip` (one clip), :func:`.arrangement.plan_clip` (a clip's score and
  description), :func:`.stems.render_stems` (its parts one by one);
* :func:`.styles.styles_table` and :func:`.artists.artists_table` (the styles and artists as tables).

The modules, in the order a clip is made (each does one job):

================  ===============================================================================
module            what it holds
================  ===============================================================================
``styles``        the ten genre styles, as data (``GENRE_STYLES``, ``styles_table``)
``tuning``        the numbers that shape how the generator plays (held by every style)
``artists``       the six artists of each genre, their fixed choices, ``artists_table``
``harmony``       scales, Roman-numeral chords, voicings, voice leading
``rhythm``        one-bar patterns on a grid; the time of every grid step
``arrangement``   every random decision of one clip (``plan_clip``)
``parts``         the notes of each part: drums, accompaniment, lead
``oscillators``   tone generators: wavetables, FM, plucked strings
``instruments``   the instrument palette and one note of an instrument
``drums``         drum sounds
``effects``       filters, distortion, echo, reverb
``stems``         the score rendered part by part (``render_stems``)
``mixing``        mix, reverb, dynamics and mastering of the stems (``render_plan``)
``render``        ``render_clip``: all of the above
``dataset``       the dataset on disk in GTZAN's layout (``generate_dataset``)
================  ===============================================================================
"""
