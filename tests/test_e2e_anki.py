"""End to end on the official `anki` library: build, import, study, edit, rebuild, re-import."""

from __future__ import annotations

from anki_collection import (
    answer_first_due_card,
    card_state,
    fresh_collection,
    import_package,
    notes_by_card_id,
    review_log,
)
from builds import build_in, set_version

DECK = "ML Math Cheat Sheet"
SUBDECK = f"{DECK}::Part 1: Concepts & Formulas"


def test_first_import_gives_every_note_card_deck_field_and_tag(project, tmp_path):
    result = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    log = import_package(col, result.path)

    assert len(log.new) == 3 and not log.updated and not log.duplicate
    notes = notes_by_card_id(col)
    assert set(notes) == {"bayes-theorem", "q13-kl-divergence", "snippet-softmax"}
    # formula with reverse → 2 cards, qa with follow-up → 2 cards, code → 1 card
    assert col.card_count() == 5 == result.anki_cards
    assert {name for name, _ in ((d.name, d.id) for d in col.decks.all_names_and_ids())} >= {
        DECK,
        SUBDECK,
    }

    bayes = notes["bayes-theorem"]
    assert bayes.note_type()["name"] == "mathdeck formula"
    assert bayes["Zh"] == "贝叶斯定理"
    assert r"\[P(A \mid B) = \frac{P(B \mid A)\,P(A)}{P(B)}\]" in bayes["Formula"]
    assert set(bayes.tags) == {"L1", "part1", "probability", "sec-1-1"}

    forward, reverse = sorted(bayes.cards(), key=lambda c: c.ord)
    assert "Bayes' theorem" in forward.question() and "(贝叶斯定理)" in forward.question()
    assert r"\frac{P(B \mid A)\,P(A)}{P(B)}" in forward.answer()
    assert "Name this formula" in reverse.question() and "Bayes' theorem" in reverse.answer()
    assert all(col.decks.name(c.did) == SUBDECK for c in bayes.cards())

    kl = notes["q13-kl-divergence"]
    question, followup = sorted(kl.cards(), key=lambda c: c.ord)
    assert "What is the KL divergence" in question.question()
    assert r"\(D_{\mathrm{KL}}(p \,\|\, q)" in question.answer()
    assert "Follow-up" in followup.question() and "mean-seeking" in followup.answer()
    assert "mean-seeking" not in question.answer()

    code = notes["snippet-softmax"].cards()[0]
    assert (
        '<span class="k">def</span>' in code.answer()
    )  # Pygments markup, highlighted at build time
    assert "<script" not in code.answer()
    assert ".card.nightMode" in code.question()  # the note type's CSS reaches the card


def test_rebuild_updates_edited_note_in_place_and_keeps_reviews(project, tmp_path, monkeypatch):
    first = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, first.path)
    kl_note_id = notes_by_card_id(col)["q13-kl-divergence"].id
    studied = answer_first_due_card(col, SUBDECK)
    studied_note = col.get_card(studied).note()["CardId"]
    state_before, log_before = card_state(col, studied), review_log(col)
    assert len(log_before) == 1 and state_before.reps == 1

    cards_file = project / "cards" / "cards.yaml"
    text = cards_file.read_text()
    cards_file.write_text(
        text.replace(
            "- Asymmetric, so not a metric.",
            "- Asymmetric: $D_{\\mathrm{KL}}(p\\|q) \\ne D_{\\mathrm{KL}}(q\\|p)$ in general.",
        )
        + "\n  - id: chain-rule\n    kind: formula\n    concept: Chain rule of probability\n"
        "    formula: |\n      $$P(x_{1:n}) = \\prod_{i=1}^n P(x_i \\mid x_{1:i-1})$$\n"
    )
    set_version(project / "cards", "0.2.0")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764086400")
    second = build_in(project)
    assert second.path != first.path and first.path.exists()

    log = import_package(col, second.path)
    assert [n.fields[-1] for n in log.updated] == ["q13-kl-divergence"]
    assert [n.fields[-1] for n in log.new] == ["chain-rule"]
    assert sorted(n.fields[-1] for n in log.duplicate) == ["bayes-theorem", "snippet-softmax"]

    notes = notes_by_card_id(col)
    assert len(notes) == 4 and len(col.find_notes("")) == 4  # no duplicates
    assert notes["q13-kl-divergence"].id == kl_note_id  # same note, updated in place
    assert r"\ne D_{\mathrm{KL}}(q\|p)" in notes["q13-kl-divergence"]["Answer"]
    assert review_log(col) == log_before
    assert card_state(col, studied) == state_before
    assert col.get_card(studied).note()["CardId"] == studied_note


def test_rebuild_without_edits_updates_nothing(project, tmp_path, monkeypatch):
    first = build_in(project)
    set_version(project / "cards", "0.1.1")
    monkeypatch.setenv(
        "SOURCE_DATE_EPOCH", "1764990000"
    )  # a later build time must not re-stamp notes
    second = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, first.path)
    log = import_package(col, second.path)
    assert not log.updated and not log.new and len(log.duplicate) == 3


def test_english_only_build_leaves_the_chinese_terms_out(project, tmp_path):
    from builder.build import BuildOptions, build

    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    both = build(options)
    english = build(options.replace(lang="en"))
    assert english.path.name == "ml-math-cheatsheet-0.1.0-en+dev.apkg" and both.path.exists()
    col = fresh_collection(tmp_path / "anki")
    import_package(col, english.path)
    bayes = notes_by_card_id(col)["bayes-theorem"]
    assert bayes["Zh"] == "" and "贝叶斯" not in bayes.cards()[0].question()
