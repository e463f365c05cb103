"""Pure builders: arrays and plain values in, Plotly figures or HTML strings out. No Streamlit.

    base           the shared chart layout, float32 conversion, the run colours
    loss           the loss curve (decimated), one curve per run of a group
    probe          hidden-state heatmap, next-character bars, gradient norms per step
    heatmap_views  what the heatmap can show for a cell (read from the cell's `views`)
    insight        neuron ranking, surprise strip, clipping, microscope, recorded samples
    strips         the one glyph helper and the character-by-character HTML builders
Charts have fixed heights, send float32 data and bounded point counts; the page passes
`config={"displayModeBar": False}`.
"""
