"""The visitor's session and every action on it. Imports neither streamlit nor plotly.

    session    the Session object (runs, active run, Play, notices, caches) and lock-step training
    widgets    widget keys and defaults, the TrainConfig they describe
    state      the actions the page's callbacks call: new run, reset, restore, live settings
    training   how many iterations a Train click or a Play tick asks for
    compare    compare mode: presets, adding and removing runs, one sample per run
    names      legend names that tell runs apart
    uploads    the text and checkpoint uploaders
    using      the probe input and the checkpoint download
    validation the counting baselines and held-out loss next to the loss curve
    runs       the visitor's workspace, saved runs and the page's URL
    share      a run's settings as a URL query string and back
"""
