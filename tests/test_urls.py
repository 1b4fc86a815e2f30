from __future__ import annotations

from tracker.urls import article_id, canonical_url


def test_tracking_parameters_fragment_and_host_case_are_dropped() -> None:
    url = "HTTPS://WWW.Example.com:443/news/a?utm_source=x&id=7&fbclid=abc&utm_medium=rss#comments"
    assert canonical_url(url) == "https://www.example.com/news/a?id=7"


def test_remaining_query_is_sorted_so_order_does_not_matter() -> None:
    assert canonical_url("http://a.test/p?b=2&a=1") == canonical_url("http://a.test/p?a=1&b=2")


def test_a_non_default_port_is_kept() -> None:
    assert canonical_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"


def test_article_id_is_stable_across_url_spellings() -> None:
    assert article_id("https://a.test/x?utm_campaign=z") == article_id("https://A.test/x#top")
    assert len(article_id("https://a.test/x")) == 16
    assert article_id("https://a.test/x") != article_id("https://a.test/y")
