"""The browser UI: a Streamlit app (``./quarry ui``) over the same runs as the CLI.

``streamlit_app`` is the script Streamlit runs (in a child process, ``server``, bound to the life
of ``./quarry ui``); ``st_nav`` registers the pages, one ``st_<page>.py`` module each, and
``st_common`` holds what they share; ``worker`` runs research in the background, independent of
any browser session, through ``research`` (the app's runner); ``live`` folds the event stream into
the live-progress view and ``views`` shapes reports, sources and graphs for the pages (both pure, no
Streamlit). Only this package imports Streamlit, and nothing here imports the CLI (``ui.cli``).
"""
