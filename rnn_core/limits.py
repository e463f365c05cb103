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
