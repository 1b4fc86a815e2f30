"""Alerts the same hour: what a recipient's watch list caught since their last alert run
(list events about a watched entity, official documents and articles matching a watched query),
built per recipient (:mod:`tracker.alerts.build`) and mailed exactly once (:mod:`.send`)."""
