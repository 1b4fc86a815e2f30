"""The daily digest: what goes in one subscriber's (``build``), as mail (``render``, templates in
``templates/``), sent exactly once (``send``, ``journal``, ``mail``)."""
