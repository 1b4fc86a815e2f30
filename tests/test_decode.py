"""Decoding page bytes: header, BOM, <meta>, detection, and the Chinese superset mapping."""

from __future__ import annotations

import codecs

import pytest

from tracker.errors import ParseError
from tracker.ingest.sources.decode import decode_bytes, normalise_charset, sniff_charset

# 喆 and 堃 are in GBK/GB18030 but not GB2312: pages labelled gb2312 use them all the time.
GBK_ONLY = "陶喆和王堃谈英伟达芯片出口管制"


def test_gb2312_label_decodes_as_gb18030() -> None:
    assert decode_bytes(GBK_ONLY.encode("gb18030"), "gb2312") == GBK_ONLY
    assert normalise_charset("GBK") == "gb18030"


def test_big5_page_decodes_from_its_meta_tag() -> None:
    html = '<html><head><meta charset="big5"></head><body>輝達晶片出口管制，美國商務部表示。</body></html>'
    assert "輝達晶片" in decode_bytes(html.encode("big5"))


def test_http_equiv_meta_is_read() -> None:
    html = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>实体清单</p>'
    assert sniff_charset(html.encode("gb18030")) == "gb18030"


def test_utf8_bom_wins_over_detection() -> None:
    assert decode_bytes(codecs.BOM_UTF8 + "稀土".encode()) == "稀土"


def test_a_lying_header_falls_through_to_the_meta_tag() -> None:
    html = '<meta charset="gbk"><p>' + GBK_ONLY + "</p>"
    assert GBK_ONLY in decode_bytes(html.encode("gb18030"), "utf-8")


def test_unlabelled_chinese_is_detected() -> None:
    text = "美国商务部工业和安全局在联邦公报发布最终规则，将二十三家中国企业列入实体清单。" * 5
    assert decode_bytes(text.encode("gb18030")) == text


def test_empty_body_is_an_error() -> None:
    with pytest.raises(ParseError, match="empty body"):
        decode_bytes(b"  \n ")


def test_binary_garbage_is_an_error() -> None:
    garbage = bytes(range(256)) * 40
    with pytest.raises(ParseError, match="undecodable"):
        decode_bytes(garbage)
