"""Media processing: a library that works on local files and knows nothing of Flask, the
database or storage (the caller downloads an upload to a temporary file first).

- ``inspect``: ``sniff(stream, filename=None)`` at upload, ``verify(path, sniffed)`` after.
- ``pipeline``: ``process(path, content_type, kind, out_dir)``: everything one upload needs.
- ``metadata``: location and other tags out of originals, and the date taken first.
- ``images``: safe opening (decompression bombs), 320 / 1600 px WebP renditions.
- ``av``: ffprobe and ffmpeg, hardened (forced demuxer, file-only, time and memory limits).
- ``pdf``: page count and a picture of the first page (PDFium).
- ``tools``: where ffmpeg is, and running decoders as bounded child processes.
- ``errors``: ``MediaError``, the one exception, with messages written for children.
"""
