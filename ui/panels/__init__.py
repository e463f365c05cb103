"""The page: widgets and layout, the only code that imports streamlit.

    page         which panel goes where (render_page)
    common       notices and the chart call every panel shares
    controls     Train, Play/Pause, Reset, the readouts
    compare      compare mode's section and its per-run cards
    loss, probe  the loss chart and the probe text box
    look_inside  one file per view, and VIEWS, the single list of them
    sampling     Generate
    data, settings, runs   the sidebar: text and checkpoint, model and optimizer, saved runs
"""
