"""The official record: who is on which list, since when, under which rule.

Pure: parsing list files (:mod:`tracker.record.screening`) and comparing a new snapshot with the
last one (:mod:`tracker.record.diff`). Fetching is the ``screening-list`` source kind's
(:mod:`tracker.ingest.sources.screening`); storing is :mod:`tracker.store.record`'s.
"""

# The export-control lists of the US Consolidated Screening List, kept by default; the others
# (sanctions lists: SDN, SSI, CMIC, ...) are opt-in with ``lists = [...]``.
DEFAULT_LISTS = ("EL", "MEU", "UVL", "DPL")
LIST_NAMES = {
    "EL": "Entity List",
    "MEU": "Military End User List",
    "UVL": "Unverified List",
    "DPL": "Denied Persons List",
    "ISN": "Nonproliferation Sanctions",
    "DTC": "ITAR Debarred",
    "CAP": "Correspondent Account or Payable-Through Account Sanctions",
    "CMIC": "Non-SDN Chinese Military-Industrial Complex Companies List",
    "FSE": "Foreign Sanctions Evaders",
    "MBS": "Non-SDN Menu-Based Sanctions List",
    "PLC": "Palestinian Legislative Council List",
    "SSI": "Sectoral Sanctions Identifications List",
    "SDN": "Specially Designated Nationals",
}
