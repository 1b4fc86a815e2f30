"""Schema migrations, applied in order on open. Append-only: never edit one that has shipped."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils (which imports numpy) loads only when a migration is due
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

SET = "tracker"  # migration_set in sqlite-utils' _sqlite_migrations table
STEPS: list[Callable[[Database], None]] = []


def step(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a migration; they run in the order they are written."""
    STEPS.append(fn)
    return fn


@step
def m001_create_core_tables(db: Database) -> None:
    db.table("sources").create(
        {"name": str, "kind": str, "url": str, "enabled": int, "lang": str, "added_at": str},
        pk="name",
    )
    db.table("feed_state").create(
        {"url": str, "etag": str, "last_modified": str, "checked_at": str}, pk="url"
    )
    db.table("articles").create(
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "source": str,
            "title": str,
            "text": str,
            "summary": str,
            "author": str,
            "published_at": str,
            "first_seen_at": str,
            "updated_at": str,
            "lang": str,
            "content_hash": str,
            "extracted": int,
        },
        pk="id",
    )
    db.table("articles").create_index(["canonical_url"], unique=True)
    db.table("articles").create_index(["published_at"])
    db.table("articles").create_index(["source"])
    db.table("tags").create({"id": str, "kind": str, "slug": str, "name": str}, pk="id")
    db.table("article_tags").create(
        {"article_id": str, "tag_id": str, "count": int, "in_title": int},
        pk=("article_id", "tag_id"),
        foreign_keys=[("article_id", "articles", "id"), ("tag_id", "tags", "id")],
    )
    db.table("article_tags").create_index(["tag_id"])
    db.table("fetch_log").create(
        {
            "id": int,
            "run_at": str,
            "source": str,
            "url": str,
            "kind": str,
            "status": int,
            "bytes": int,
            "duration_ms": int,
            "error": str,
        },
        pk="id",
    )
    db.table("fetch_log").create_index(["source", "run_at"])
    # Our own index form (folded, Han bigrams; see textnorm.index_form), kept in step by Store, so
    # the FTS table has its own content rather than mirroring the articles columns with triggers.
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "title, body, tails, tokenize = 'porter unicode61 remove_diacritics 2')"
    )


@step
def m002_add_article_relevance(db: Database) -> None:
    """How much each article is about the tracker's topic (tagging.relevance), for --relevant."""
    db.table("articles").add_column("relevance", float)
    db.table("articles").create_index(["relevance"])


# Columns of the official record (Federal Register) and of syndicated news (Google News).
OFFICIAL_COLUMNS = {
    "document_number": str,
    "citation": str,
    "doc_type": str,
    "action": str,
    "publication_date": str,
    "effective_on": str,
    "comments_close_on": str,
    "html_url": str,
    "pdf_url": str,
    "cfr_references": str,  # JSON list, as the API gives it
    "publisher": str,
    "publisher_url": str,
}


@step
def m003_add_official_and_publisher_fields(db: Database) -> None:
    for column, kind in OFFICIAL_COLUMNS.items():
        db.table("articles").add_column(column, kind)
    db.table("articles").create_index(["document_number"])


@step
def m004_create_source_state(db: Database) -> None:
    """Per-source health: what happened last, and when to try again."""
    db.table("source_state").create(
        {
            "name": str,
            "last_run_at": str,
            "last_success_at": str,
            "last_new_at": str,
            "last_error": str,
            "last_error_at": str,
            "consecutive_failures": int,
            "next_attempt_at": str,
            "disabled_reason": str,
        },
        pk="name",
        defaults={"consecutive_failures": 0},
    )


def _fill_search_index(db: Database) -> None:
    from tracker.store.fts import fts_row, tag_text  # here, not at import: migrations load early

    tags: dict[str, list[tuple[str, int, int]]] = {}
    for row in db.query("SELECT article_id, tag_id, count, in_title FROM article_tags"):
        tags.setdefault(row["article_id"], []).append(
            (row["tag_id"], row["count"], row["in_title"])
        )
    for row in db.query("SELECT rowid, id, title, text FROM articles"):
        db.execute(
            "INSERT INTO articles_fts (rowid, title, body, tails, tags) VALUES (?, ?, ?, ?, ?)",
            [
                row["rowid"],
                *fts_row(row["title"] or "", row["text"] or ""),
                tag_text(tags.get(row["id"], [])),
            ],
        )


@step
def m005_rebuild_search_index_with_tags(db: Database) -> None:
    """The search index gains a ``tags`` column (a query word that is a vocabulary alias also finds
    the articles tagged with it, in any language), and is rebuilt with the current index form."""
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "title, body, tails, tags, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    _fill_search_index(db)


@step
def m006_index_article_moment(db: Database) -> None:
    """Listings sort by this expression; with an index, the newest 20 are read, not sorted."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_moment "
        "ON articles (COALESCE(published_at, first_seen_at))"
    )


@step
def m007_contentless_search_index(db: Database) -> None:
    """The search index keeps no copy of the text (articles has it): a third of its size."""
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, tails, tags, content='', "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    _fill_search_index(db)


@step
def m008_create_article_sources(db: Database) -> None:
    """Every source that carried an article: one story syndicated by two feeds is one article."""
    db.table("article_sources").create(
        {"article_id": str, "source": str, "first_seen_at": str},
        pk=("article_id", "source"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.execute(
        "INSERT OR IGNORE INTO article_sources (article_id, source, first_seen_at) "
        "SELECT id, source, first_seen_at FROM articles"
    )


@step
def m009_create_stories(db: Database) -> None:
    """Stories: copies and rewrites of one event (see tracker.stories.match). Every article starts
    pending (no story_id) and is placed on the next fetch or by ``tracker stories rebuild``."""
    db.table("articles").add_column("story_id", int)
    db.table("articles").add_column("story_reason", str)
    db.table("articles").create_index(["story_id"])
    db.table("stories").create(
        {
            "id": int,
            "lead_id": str,
            "size": int,
            "first_at": str,
            "last_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("stories").create_index(["last_at"])
    db.table("story_sigs").create(
        {
            "article_id": str,
            "moment": float,
            "lang": str,
            "official": int,
            "extracted": int,
            "minhash": bytes,
            "facts": str,
        },
        pk="article_id",
    )
    db.table("story_bands").create({"key": int, "article_id": str})
    db.table("story_bands").create_index(["key"])
    db.table("story_bands").create_index(["article_id"])
    db.table("story_keys").create({"key": str, "moment": float, "article_id": str})
    db.table("story_keys").create_index(["key", "moment"])
    db.table("story_keys").create_index(["article_id"])


@step
def m010_create_digest_tables(db: Database) -> None:
    """What each digest recipient was sent: a send per message, an item row per article.

    Items are written only after the server accepted that recipient's message, so a failed send
    leaves them to the recipient's next digest, and a success is never repeated.
    """
    db.table("digest_sends").create(
        {
            "id": int,
            "email": str,
            "started_at": str,
            "finished_at": str,
            "window_start": str,
            "window_end": str,
            "message_id": str,
            "subject": str,
            "items": int,
            "status": str,  # sent | failed
            "error": str,
        },
        pk="id",
    )
    db.table("digest_sends").create_index(["email", "status", "finished_at"])
    db.table("digest_items").create(
        {"email": str, "article_id": str, "send_id": int, "sent_at": str},
        pk=("email", "article_id"),
    )


@step
def m011_add_page_outcome(db: Database) -> None:
    """Whether an article's own page was read, so a later run knows which pages to try again.

    ``page_fetched_at``: when the page last answered (with or without a main text);
    ``page_failures``: failed attempts since. A feed-only copy of an article has neither, so a
    source that reads pages fetches it once rather than treating the summary as the article.
    """
    articles = db.table("articles")
    articles.add_column("page_fetched_at", str)
    articles.add_column("page_failures", int, not_null_default=0)


@step
def m012_add_source_official_and_title(db: Database) -> None:
    """A source can say it is official (its articles are a government's own record, listed
    under "official actions") and carry the title readers see (``name`` may be a slug)."""
    sources = db.table("sources")
    sources.add_column("official", int, not_null_default=0)
    sources.add_column("title", str)


@step
def m013_add_official_lists(db: Database) -> None:
    """The official record: list entries as last seen (``removed_at`` set once they leave a
    list), the events that changed them, and each applied snapshot."""
    db.table("list_entries").create(
        {
            "list_code": str,
            "entry_id": str,
            "name": str,
            "alt_names": str,  # JSON array
            "type": str,
            "addresses": str,
            "countries": str,  # JSON array
            "citation": str,
            "start_date": str,
            "end_date": str,
            "license_requirement": str,
            "license_policy": str,
            "remarks": str,
            "source_url": str,
            "fingerprint": str,
            "source": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "removed_at": str,
        },
        pk=("list_code", "entry_id"),
    )
    db.table("list_entries").create_index(["name"])
    db.table("list_events").create(
        {
            "id": int,
            "list_code": str,
            "entry_id": str,
            "name": str,
            "event": str,  # added | revised | removed
            "at": str,
            "citation": str,
            "changed": str,  # JSON array of field names (revised)
            "source": str,
        },
        pk="id",
    )
    db.table("list_events").create_index(["at"])
    db.table("list_events").create_index(["list_code", "entry_id"])
    db.table("list_snapshots").create(
        {"id": int, "source": str, "fetched_at": str, "entries": int, "changes": int},
        pk="id",
    )


@step
def m014_add_list_names(db: Database) -> None:
    """Every list entry's names in matching form (``tracker.record.names``), to find an entity
    by any of its names in any script without reading the whole list."""
    db.table("list_names").create(
        {"key": str, "list_code": str, "entry_id": str}, pk=("key", "list_code", "entry_id")
    )
    db.table("list_names").create_index(["list_code", "entry_id"])


@step
def m015_add_entities(db: Database) -> None:
    """Entities (list entries and vocabulary companies joined by name), the list names each
    article names, Entity List rules read from the Federal Register, and a rule's provisional
    entries giving way to the screening list's once it catches up."""
    db.table("entities").create({"id": str, "name": str, "tag": str, "parent": str}, pk="id")
    db.table("entity_keys").create({"key": str, "entity_id": str}, pk=("key", "entity_id"))
    db.table("entity_keys").create_index(["entity_id"])
    db.table("entity_members").create(
        {"entity_id": str, "list_code": str, "entry_id": str}, pk=("list_code", "entry_id")
    )
    db.table("entity_members").create_index(["entity_id"])
    db.table("article_mentions").create(
        {"article_id": str, "key": str, "at": str}, pk=("article_id", "key")
    )
    db.table("article_mentions").create_index(["key", "at"])
    db.table("linked_keys").create({"key": str}, pk="key")
    db.table("link_queue").create({"article_id": str}, pk="article_id")
    db.table("record_state").create({"name": str, "value": str}, pk="name")
    db.table("list_rules").create(
        {
            "document_number": str,
            "citation": str,
            "published": str,
            "source": str,
            "status": str,  # parsed | not-understood
            "added": int,
            "revised": int,
            "removed": int,
            "problem": str,
            "read_at": str,
        },
        pk="document_number",
    )
    db.table("list_entries").add_column("superseded_by", str)
    db.table("list_events").add_column("document", str)


@step
def m016_index_entity_tags_and_parents(db: Database) -> None:
    """Entities found by their vocabulary tag and by their parent without reading them all."""
    db.table("entities").create_index(["tag"])
    db.table("entities").create_index(["parent"])


@step
def m017_add_document_dates(db: Database) -> None:
    """A Federal Register document's ``dates`` text ("This rule is effective February 2, 2026;
    comments must be received by ..."), read for deadlines."""
    db.table("articles").add_column("dates", str)


@step
def m018_add_alerts(db: Database) -> None:
    """Alerts: what each recipient was sent (exactly once per event), and how far each
    recipient's alerts have looked (the list events and the articles first seen since)."""
    db.table("alert_sends").create(
        {"email": str, "key": str, "sent_at": str, "subject": str, "title": str},
        pk=("email", "key"),
    )
    db.table("alert_sends").create_index(["sent_at"])
    db.table("alert_marks").create(
        {"email": str, "checked_at": str, "last_event_id": int}, pk="email"
    )


@step
def m019_add_alert_hooks(db: Database) -> None:
    """Alerts a recipient's webhook answered 2xx to (never POSTed again)."""
    db.table("alert_hooks").create(
        {"email": str, "key": str, "url": str, "sent_at": str}, pk=("email", "key", "url")
    )


@step
def m020_add_correction_of(db: Database) -> None:
    """The document a Federal Register correction corrects (its deadlines may move)."""
    db.table("articles").add_column("correction_of", str)


@step
def m021_add_story_terms(db: Database) -> None:
    """How many placed articles use each headline-and-lead term (the names rule's rarity
    weights); the row with the empty term counts the articles. Filled as articles are placed;
    ``tracker stories rebuild`` counts every stored article."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS story_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )


@step
def m022_declare_references(db: Database) -> None:
    """Declare the references a SQLite browser follows (``datasette tracker.db`` links an
    article to its story and source, a story to its lead, a digest item to its send and
    article, each shown by its title or name).

    SQLite cannot add a constraint to an existing table, and rebuilding ``articles`` would copy
    the whole store; so rows that would break a reference are mended first, then the tables'
    schema text gets its REFERENCES clauses, which changes no stored row (the procedure SQLite
    documents under "Making Other Kinds Of Table Schema Changes"). ``PRAGMA foreign_key_check``
    then proves every row agrees. The references are DEFERRABLE INITIALLY DEFERRED: checked at
    commit, so a rebuild may empty the stories and write them again in one transaction."""
    # Mend: a source never recorded, a story whose lead is gone, an article whose story is
    # gone (it is placed again by the next fetch), digest items of deleted articles or sends.
    db.execute(
        "INSERT OR IGNORE INTO sources (name, enabled, added_at) SELECT source, 1, "
        "min(first_seen_at) FROM articles WHERE source IS NOT NULL GROUP BY source"
    )
    db.execute("DELETE FROM stories WHERE lead_id NOT IN (SELECT id FROM articles)")
    db.execute(
        "UPDATE articles SET story_id = NULL, story_reason = NULL WHERE story_id IS NOT NULL "
        "AND story_id NOT IN (SELECT id FROM stories)"
    )
    db.execute("DELETE FROM digest_items WHERE article_id NOT IN (SELECT id FROM articles)")
    db.execute(
        "UPDATE digest_items SET send_id = NULL WHERE send_id IS NOT NULL "
        "AND send_id NOT IN (SELECT id FROM digest_sends)"
    )
    # A parent row's delete looks its children up: these make that a search, not a scan.
    db.execute("CREATE INDEX IF NOT EXISTS idx_stories_lead_id ON stories (lead_id)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_digest_items_article_id ON digest_items (article_id)"
    )
    for table, columns in REFERENCES.items():
        sql = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
        ).fetchone()[0]
        for column, target in columns.items():
            declared = re.compile(rf'(["\[]?{column}["\]]? (?:TEXT|INTEGER))(?=[,\n)])')
            clause = f" REFERENCES {target} DEFERRABLE INITIALLY DEFERRED"
            sql, found = declared.subn(r"\g<1>" + clause, sql, count=1)
            if not found:
                raise RuntimeError(f"m022: {table}.{column} not found in its schema")
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", [sql, table]
        )
        db.execute(f"PRAGMA schema_version = {version + 1}")  # every connection re-reads it
        db.execute("PRAGMA writable_schema = OFF")
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"m022: rows still break a reference: {broken[:5]}")


# The references m022 declares: table -> column -> what it refers to.
REFERENCES = {
    "articles": {"source": "sources (name)", "story_id": "stories (id)"},
    "stories": {"lead_id": "articles (id)"},
    "digest_items": {"article_id": "articles (id)", "send_id": "digest_sends (id)"},
}


@step
def m023_add_reading_views(db: Database) -> None:
    """Two views for reading the store in Datasette or sqlite3: the newest relevant articles
    with their tags, and the newest stories with their lead, member count, sources and
    languages (1,000 rows each, newest first; both walk an index, not the store)."""
    db.execute(
        """CREATE VIEW IF NOT EXISTS latest_relevant_articles AS
        SELECT id, COALESCE(published_at, first_seen_at) AS published, source, lang, title,
            round(relevance, 2) AS relevance,
            (SELECT group_concat(t.tag_id, ' ') FROM article_tags t WHERE t.article_id = id)
                AS tags,
            story_id, url
        FROM articles WHERE relevance >= 0.5
        ORDER BY COALESCE(published_at, first_seen_at) DESC LIMIT 1000"""
    )
    db.execute(
        """CREATE VIEW IF NOT EXISTS stories_with_members AS
        SELECT s.id AS story_id, s.last_at, s.first_at, s.size AS members,
            (SELECT count(DISTINCT m.source) FROM articles m WHERE m.story_id = s.id) AS sources,
            (SELECT group_concat(DISTINCT m.lang) FROM articles m WHERE m.story_id = s.id)
                AS languages,
            a.title AS lead_title, s.lead_id, a.url AS lead_url
        FROM stories s JOIN articles a ON a.id = s.lead_id
        ORDER BY s.last_at DESC LIMIT 1000"""
    )


# The fields of an item saved in articles' own columns (m003's, then m017's and m020's).
ARTICLE_FIELDS = frozenset([*OFFICIAL_COLUMNS, "dates", "correction_of"])

# Every migration this version knows, in order; a database with others was written by a newer
# tracker (sqlite-utils keeps the registered list private, hence the attribute).
MIGRATION_NAMES: tuple[str, ...] = tuple(fn.__name__ for fn in STEPS)


def as_migrations() -> Migrations:
    """The steps as a sqlite-utils migration set, which records what it applied."""
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(SET)
    for fn in STEPS:
        migrations()(fn)
    return migrations
