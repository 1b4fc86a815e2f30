from __future__ import annotations

import pytest

from tracker.urls import article_id, canonical_url


def test_tracking_parameters_fragment_and_host_case_are_dropped() -> None:
    url = "HTTPS://WWW.Example.com:443/news/a?utm_source=x&id=7&fbclid=abc&utm_medium=rss#comments"
    assert canonical_url(url) == "https://example.com/news/a?id=7"


def test_remaining_query_is_sorted_so_order_does_not_matter() -> None:
    assert canonical_url("http://a.test/p?b=2&a=1") == canonical_url("http://a.test/p?a=1&b=2")


def test_a_non_default_port_is_kept() -> None:
    assert canonical_url("http://127.0.0.1:8080/x") == "https://127.0.0.1:8080/x"


@pytest.mark.parametrize(
    "variant",
    [
        "http://example.com/news/a",  # http
        "https://www.example.com/news/a",  # www
        "https://m.example.com/news/a",  # mobile host
        "https://mobile.example.com/news/a",
        "https://amp.example.com/news/a",
        "https://example.com/news/a/",  # trailing slash
        "https://example.com/news/a/amp",  # AMP path forms
        "https://example.com/amp/news/a",
        "https://example.com/news/a?amp=1",
        "https://example.com/news/a?outputType=amp",
    ],
)
def test_copies_of_one_page_are_one_article(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/news/a"
    assert article_id(variant) == article_id("https://example.com/news/a")


def test_amp_html_suffix_and_lookalikes() -> None:
    assert canonical_url("https://example.com/a.amp.html") == "https://example.com/a.html"
    assert canonical_url("https://example.com/ampersand/x") == "https://example.com/ampersand/x"
    assert canonical_url("https://m.co/x") == "https://m.co/x"  # m.co is the whole domain
    assert canonical_url("https://example.com/") == "https://example.com/"


def test_article_id_is_stable_across_url_spellings() -> None:
    assert article_id("https://a.test/x?utm_campaign=z") == article_id("https://A.test/x#top")
    assert len(article_id("https://a.test/x")) == 16
    assert article_id("https://a.test/x") != article_id("https://a.test/y")
