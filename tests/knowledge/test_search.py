"""The search engine (pure, no database): normal form across scripts and widths, same-sound typo
correction, editors' synonyms, field weighting, category filter, highlighting, confidence, and the
re-ranker with the embedded model. Generated entries only."""

from __future__ import annotations

from kefu.knowledge.search.engine import Doc, SearchEngine, highlight
from kefu.knowledge.search.evaluate import evaluate
from kefu.knowledge.search.text import Speller, Synonyms, normalise, tokens

DOCS = [
    Doc(1, "card-loss", "借记卡丢失后如何挂失？", ("银行卡丢了怎么办", "储蓄卡找不到了"), ("挂失", "丢卡"),
        "1. 拨打客服热线挂失；\n2. 或在手机银行“卡片管理”挂失。", 1, "借记卡/挂失补办"),
    Doc(2, "cc-loss", "信用卡丢失后如何挂失？", ("信用卡丢了",), ("信用卡挂失",), "立即致电挂失，挂失后补卡。", 2,
        "信用卡/卡片管理"),
    Doc(3, "card-unlock", "挂失后卡找到了，如何解除挂失？", ("卡找回来了怎么解挂",), ("解挂",),
        "携带身份证到网点办理解挂。", 1, "借记卡/挂失补办"),
    Doc(4, "xfer-limit", "手机银行转账限额是多少？", ("一天最多能转多少钱",), ("限额", "转账额度"),
        "短信验证单笔5万元，日累计20万元。", 3, "转账汇款/转账办理"),
    Doc(5, "ukey-expire", "U盾证书到期了如何更新？", ("网银盾过期",), ("U盾", "证书更新"),
        "登录网银，在“安全中心”更新证书。", 4, "网上银行/U盾"),
    Doc(6, "lpr", "房贷利率如何转换为LPR？", ("LPR转换怎么办",), ("LPR", "利率转换"),
        "在手机银行“贷款”中申请转换。", 5, "贷款/住房贷款"),
]  # fmt: skip


def engine(**kw):
    return SearchEngine(DOCS, Synonyms([("挂失", ["止付", "报失"])]), **kw)


def keys(e, q, **kw):
    return [h.doc.key for h in e.search(q, **kw)]


def test_normal_form_joins_scripts_widths_and_banking_words():
    assert normalise("銀行卡遺失了如何掛失") == "银行卡遗失了如何挂失"
    assert normalise("ＡＴＭ吞卡，Ｕ盾") == "atm吞卡 u盾"
    assert normalise("帳戶 帳單") == "账户 账单"  # OpenCC writes 帐; banks write 账
    assert normalise("行動銀行 簡訊") == "手机银行 短信"  # Taiwan vocabulary


def test_tokens_keep_latin_words_whole_and_mix_them_with_chinese():
    toks = tokens(normalise("U盾过期 LPR"))
    assert {"u盾", "lpr", "过期"} <= set(toks)


def test_traditional_script_finds_the_simplified_entry():
    assert keys(engine(), "銀行卡遺失了如何掛失")[0] == "card-loss"
    assert keys(engine(), "信用卡掉了要怎麼掛失")[0] == "cc-loss"


def test_same_sound_typos_are_corrected_from_the_entries_own_words():
    speller = Speller(normalise(t) for d in DOCS for t in (d.question, *d.similar, d.answer))
    assert speller.correct("银行卡挂室了") == "银行卡挂失了"
    assert speller.correct("转账线额") == "转账限额"
    assert speller.correct("去海外旅游") == "去海外旅游"  # a common word (海外) is not a typo
    assert speller.correct("挂失") == "挂失"  # known words stay
    assert keys(engine(), "储蓄卡丢了怎么挂室")[0] == "card-loss"


def test_synonyms_added_by_editors_reach_entries_that_use_the_other_word():
    plain = SearchEngine(DOCS)
    assert "card-loss" not in keys(plain, "止付", top=3)
    assert keys(engine(), "借记卡止付")[0] == "card-loss"


def test_latin_terms_and_keyword_queries():
    assert keys(engine(), "U盾 过期")[0] == "ukey-expire"
    assert keys(engine(), "lpr 转换")[0] == "lpr"
    assert keys(engine(), "一天最多转多少")[0] == "xfer-limit"


def test_category_filter_keeps_only_that_category():
    found = keys(engine(), "挂失", category_ids={2})
    assert found == ["cc-loss"]


def test_nothing_matching_returns_nothing_and_low_confidence():
    e = engine()
    assert e.search("汽车保养") == []
    assert all(h.confidence < 0.3 for h in e.search("天气预报"))  # a shared character (天) is not an answer
    strong = e.search("借记卡丢失后如何挂失")[0]
    weak = e.search("借记卡利息多少")[0]
    assert strong.confidence == 1.0
    assert weak.confidence < 0.6


def test_highlight_escapes_html_and_marks_shared_words():
    out = highlight("<b>借记卡</b>丢失后如何挂失？", normalise("借记卡挂失"))
    assert "<b>" not in out
    assert "&lt;b&gt;" in out
    assert "<mark>借记卡</mark>" in out
    assert "<mark>挂失</mark>" in out


def test_matched_question_is_the_closest_paraphrase():
    hit = engine().search("卡找回来了怎么解挂")[0]
    assert hit.doc.key == "card-unlock"
    assert hit.matched == "卡找回来了怎么解挂"


def test_evaluation_figures():
    e = engine()
    report = evaluate(lambda q: keys(e, q), [("銀行卡遺失了如何掛失", "card-loss"), ("U盾过期", "ukey-expire"),
                                             ("天气预报", "lpr")])  # fmt: skip
    assert report.n == 3
    assert report.top1 == 2 / 3
    assert report.recall3 == 2 / 3
    assert [m["query"] for m in report.misses] == ["天气预报"]


def test_reranker_with_the_embedded_model_orders_by_meaning(tmp_path):
    from kefu.knowledge.search.rerank import E5Reranker

    rr = E5Reranker()
    assert rr.warm(DOCS) == sum(2 + len(d.similar) for d in DOCS)
    assert rr.is_warm(DOCS)
    assert rr.warm(DOCS) == 0
    e = engine(reranker=rr)
    assert keys(e, "卡找回来了，想恢复使用")[0] == "card-unlock"
    path = tmp_path / "emb.npz"
    rr.save(path)
    again = E5Reranker()
    assert again.load(path) > 0
    assert again.is_warm(DOCS)
