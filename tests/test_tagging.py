"""The first tagger: aliases across scripts, token boundaries, longest match, counts, title."""

from __future__ import annotations

import pytest

from tracker.tagging.tagger import RELEVANT, Tagger, relevance
from tracker.tagging.vocabulary import Entry


def tags(tagger: Tagger, text: str, title: str = "") -> set[str]:
    return {h.tag_id for h in tagger.tag(title, text)}


@pytest.mark.parametrize(
    "alias", ["Nvidia", "NVIDIA", "英伟达", "英偉達", "輝達", "辉达", "ＮＶＩＤＩＡ"]
)
def test_nvidia_in_every_script(tagger: Tagger, alias: str) -> None:
    assert "company:nvidia" in tags(tagger, f"{alias} said on Tuesday")


def test_h20_is_not_found_inside_h200_or_h20a(tagger: Tagger) -> None:
    assert tags(tagger, "The H200 and the H20A") == {"chip:h200"}


def test_model_numbers_next_to_chinese_are_tokens(tagger: Tagger) -> None:
    assert {"chip:h20", "company:nvidia"} <= tags(tagger, "英伟达H20芯片")


def test_amd_is_not_found_inside_words(tagger: Tagger) -> None:
    assert "company:amd" not in tags(tagger, "Amdahl's law and the AMDX format")


def test_longest_alias_wins_where_aliases_overlap(tagger: Tagger) -> None:
    found = tags(tagger, "美超微股价大涨")
    assert "company:supermicro" in found


def test_cased_alias_needs_its_letter_case(tagger: Tagger) -> None:
    assert "company:tokyo-electron" in tags(tagger, "TEL shares rose")
    assert "company:tokyo-electron" not in tags(tagger, "call the tel number")


def test_counts_and_title_are_recorded(tagger: Tagger) -> None:
    hits = {
        h.tag_id: h for h in tagger.tag("Nvidia wins licence", "Nvidia said. NVIDIA will ship.")
    }
    assert hits["company:nvidia"].count == 3
    assert hits["company:nvidia"].in_title
    hits = {h.tag_id: h for h in tagger.tag("A phone review", "Its Intel modem is fine.")}
    assert not hits["company:intel"].in_title


def test_stop_phrase_claims_its_span() -> None:
    tagger = Tagger([Entry("company", "lam-research", "Lam", ("Lam",), stop=("Lam Ching-ying",))])
    assert not tagger.tag("", "the actor Lam Ching-ying")
    assert tagger.tag("", "Lam said")


def test_empty_text_and_empty_vocabulary(tagger: Tagger) -> None:
    assert tagger.tag("", "") == []
    assert Tagger([]).tag("t", "Nvidia") == []


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("商务部新闻发言人表示，中方坚决反对。", "agency:mofcom"),
        ("商务部 海关总署公告2024年第46号", "agency:mofcom"),
        ("美国总统特朗普表示，商务部将收紧出口管制。", "agency:us-commerce"),
        ("商务部工业和安全局发布新规。", "agency:us-commerce"),
        ("商务部表示，将依法处理。", "agency:commerce-ministry"),  # undecided: the generic form
    ],
)
def test_commerce_ministry_is_resolved_by_context(tagger: Tagger, text: str, agency: str) -> None:
    found = {
        t
        for t in tags(tagger, text)
        if (t.startswith("agency:") and "commerce" in t) or t == "agency:mofcom"
    }
    assert found == {agency}


def test_us_cue_after_the_word_is_its_object_not_its_owner(tagger: Tagger) -> None:
    assert "agency:us-commerce" not in tags(tagger, "", title="商务部回应美方出口管制")


def test_chaowei_is_amd_in_traditional_text_and_supermicro_in_simplified(tagger: Tagger) -> None:
    assert "company:amd" in tags(tagger, "超微表示，MI308晶片預料將獲得許可。")
    assert "company:supermicro" not in tags(tagger, "超微表示，MI308晶片預料將獲得許可。")
    assert "company:supermicro" in tags(tagger, "超微电脑股价大涨，超微表示服务器订单强劲。")
    assert "company:amd" not in tags(tagger, "超微电脑股价大涨，超微表示服务器订单强劲。")


def test_the_article_language_can_decide_the_script(tagger: Tagger) -> None:
    hits = {h.tag_id for h in tagger.tag("", "超微", lang="zh-Hant")}
    assert hits == {"company:amd"}


def test_guowuyuan_is_resolved_by_context(tagger: Tagger) -> None:
    assert "agency:us-state-department" in tags(tagger, "美國商務部將與國務院共同制定規則")
    assert "agency:prc-state-council" in tags(tagger, "国务院关税税则委员会决定加征关税")
    assert "agency:guowuyuan" in tags(tagger, "国务院发布通知。")


def test_rubin_needs_chip_context(tagger: Tagger) -> None:
    assert "chip:rubin" in tags(tagger, "Nvidia said its Rubin GPU will follow Blackwell.")
    assert "chip:rubin" not in tags(
        tagger, "Rubin, a partner at a law firm, said clients were worried."
    )


@pytest.mark.parametrize(
    "text",
    [
        "Nvidia will pay the federal government 15% of revenue from those licensed sales.",
        "with 25% of the proceeds going to the US government",
        "英伟达需将许可销售收入的15%交给美国政府。",
        "其中25%的收入將歸美國政府所有。",
        "川普政府向輝達收取H20銷售分潤，形同保護費。",
    ],
)
def test_revenue_share_when_tied_to_government_or_licences(tagger: Tagger, text: str) -> None:
    assert "policy:revenue-share" in tags(tagger, text)


@pytest.mark.parametrize(
    "text",
    [
        "The H20 delivers about 15% of H100 performance.",
        "China accounted for 13% of revenue in the quarter.",
        "平台与商家的分成比例调整为七三开，抽成上限降低。",
    ],
)
def test_percentages_and_profit_splits_that_are_not_revenue_shares(
    tagger: Tagger, text: str
) -> None:
    assert "policy:revenue-share" not in tags(tagger, text)


def test_tel_needs_market_context_and_tel_aviv_never_counts(tagger: Tagger) -> None:
    assert "company:tokyo-electron" in tags(tagger, "TEL shares rose 2% on chipmaking demand.")
    assert "company:tokyo-electron" not in tags(tagger, "Call the TEL number listed for investors.")
    assert "company:tokyo-electron" not in tags(tagger, "TEL AVIV startup shares its plans.")


def test_licence_alone_needs_trade_context(tagger: Tagger) -> None:
    assert "policy:export-licence" in tags(
        tagger, "ASML will need a licence to service its tools in China."
    )
    assert "policy:export-licence" not in tags(tagger, "Get a fishing licence at the town hall.")


def test_mofcom_notice_numbers(tagger: Tagger) -> None:
    assert "policy:mofcom-notice-2024-46" in tags(tagger, "商务部公告2024年第46号")
    found = tags(tagger, "暂停实施2025年第61号和第62号公告所列的稀土出口管制措施")
    assert {"policy:mofcom-notice-2025-61", "policy:mofcom-notice-2025-62"} <= found
    assert "policy:mofcom-notice-2025-61" not in tags(
        tagger, "根据公告2023年第61号，农产品标准调整。"
    )


def test_unreliable_entity_list_is_not_the_entity_list(tagger: Tagger) -> None:
    found = tags(tagger, "中国商务部将多家美国企业列入不可靠实体清单")
    assert "policy:unreliable-entity-list" in found
    assert "policy:entity-list" not in found


def test_taiwan_words_fold_to_mainland_aliases(tagger: Tagger) -> None:
    assert "chip:hbm" in tags(tagger, "高頻寬記憶體納入管制")


def test_relevance_needs_a_control_signal(tagger: Tagger) -> None:
    weights = tagger.weights()
    phone = relevance(tagger.tag("Review: a phone", "Its Intel modem is fine."), weights)
    chips = relevance(
        tagger.tag("H20, H200 and H100 benchmarks", "Nvidia H20 H200 H100 Blackwell."), weights
    )
    rule = relevance(tagger.tag("Commerce adds firms to the Entity List", "BIS said."), weights)
    assert phone < RELEVANT
    assert chips == 0.0  # chips alone, however many, are not the topic
    assert rule >= RELEVANT
    stronger = relevance(
        tagger.tag("Commerce adds firms to the Entity List", "BIS said. Nvidia H20."), weights
    )
    assert stronger > rule  # subjects amplify a control signal


def test_abbreviations_do_not_end_the_sentence_a_cue_must_share(tagger: Tagger) -> None:
    # The cue (china) stands before "U.S. ", which once counted as the end of a sentence.
    assert "policy:export-licence" in tags(tagger, "Exporters to China now need U.S. licences.")
