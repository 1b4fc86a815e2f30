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
    # China's lists, from MOFCOM's announcements (the ``mofcom`` source kind).
    "CN-UEL": "Unreliable Entity List (China)",
    "CN-ECL": "Export Control Control List (China)",
    "CN-WATCH": "Export Control Watch List (China)",
}


def list_code_for(value: str) -> str | None:
    """The list a user means: its code in any case (``el``), or its name as a slug
    (``entity-list``, ``military-end-user-list``, ``unverified``); None when no list is meant."""
    wanted = value.strip().lower().replace("_", "-")
    for code, name in LIST_NAMES.items():
        slug = name.lower().replace(" ", "-")
        if wanted in (code.lower(), slug, slug.removesuffix("-list")):
            return code
    return None
