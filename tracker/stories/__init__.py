"""Stories: copies, rewrites and translations of one event joined as articles arrive. ``match``
holds the signatures and joining rules, ``place`` the incremental placement, ``rebuild`` the full
rebuild, ``evaluate`` the labelled-set score; their SQL is :mod:`tracker.store.stories`."""
