"""Every cap the playground enforces, in one place.

The engine checks these; the app shows them next to the controls they limit, and
`.streamlit/config.toml` repeats the upload cap (Streamlit reads it from there).
"""

MAX_TEXT_CHARS = 5_000_000   # characters of training text (a 5 MB novel trains fine; bigger only costs memory)
MAX_UPLOAD_MB = 10           # must equal server.maxUploadSize in .streamlit/config.toml
MAX_VOCAB = 512              # distinct characters; V=512 keeps Wxh/Why at H*V*8 bytes = 2 MB at H=512
MAX_HIDDEN = 512             # hidden units; the recurrence is an (H,H) product per character
MAX_SEQ_LENGTH = 200         # unrolled steps per iteration
MAX_BATCH = 128              # streams per iteration (batch_size)
MAX_BATCH_CHARS = 3_200      # batch_size x seq_length: one iteration's arrays stay under ~210 MB (LSTM, H=512)
MAX_ITERS_PER_CLICK = 10_000 # iterations one Train click may ask for
MAX_SAMPLE_LENGTH = 5_000    # characters one Generate may ask for
MAX_PROBE_CHARS = 400        # characters shown in the hidden-state heatmap
MAX_CHECKPOINT_MB = 256      # unpacked size of a checkpoint (the largest real one, LSTM H=512 V=512 Adam + 5M chars, is ~70 MB); stops zip bombs
MAX_RECORDED_SAMPLES = 200   # samples a run keeps while training (thinned evenly beyond this)
MAX_RECORDED_SAMPLE_CHARS = MAX_SAMPLE_LENGTH  # characters of one recorded sample (the trainer records 201)
MAX_HISTORY_ROWS = 100_000   # rows of loss history (3 * 8 bytes each: 2.4 MB); older rows merge in pairs
MAX_CONFIG_JSON_CHARS = 4_096  # a checkpoint's settings as JSON (a real one is ~250 characters)
MAX_CONFIG_JSON_DEPTH = 4    # bracket nesting of those settings (a real one is flat: depth 1)
MAX_STORE_MB = 2_048         # the run folder as a whole, all workspaces together; the oldest idle runs go first
MAX_STORE_RUNS = 2_000       # runs in the run folder, all workspaces together
STORE_IDLE_SECONDS = 60      # a run saved this recently is in use (Play autosaves every 5 s) and never evicted
