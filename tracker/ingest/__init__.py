"""Ingest: one fetch run, every source through fetch, decode/extract, normalise and tag into the
store (``pipeline``), with the HTTP client (``http``, ``deadline``), page prefetch and extraction
(``prefetch``, ``extract``, ``pool``), source health (``health``) and the source kinds
(``sources``)."""
