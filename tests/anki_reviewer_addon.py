"""A test-only Anki add-on: tests/real_anki.py copies it into a throwaway BASE/addons21/ (never
into anyone's Anki) and drives it through JSON files in $MATHDECK_DRIVER_DIR.

Each `request-N.json` names a command; the add-on runs it on Anki's main thread and writes the
answer to the file the request names (written whole, then renamed). Commands:

- `state`: what Anki itself records about writes: the collection's modification time and every
  note type's and note's `mod`, so a test can prove that a push wrote nothing.
- `review`: shows given cards in Anki's real reviewer (question, then answer) in day or night
  mode, in a main window whose web view is `width` px wide; after MathJax has typeset each side,
  measures it in the page (horizontal scrollbars, anything past the window edge, MathJax errors)
  and saves a screenshot. `inject` appends HTML to the card first (the test's negative control).
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from aqt import gui_hooks, mw
from aqt.qt import QTimer
from aqt.theme import Theme

DRIVER_DIR = Path(os.environ.get("MATHDECK_DRIVER_DIR", ""))
SIDE_TIMEOUT = 30  # seconds for one side to be shown and typeset

# True once the side shown last is complete: _updateQA sets #qa's opacity to 0, typesets, and
# sets it back to 1 (we set it to 0 ourselves before showing, so an old 1 never counts).
SHOWN_JS = """(() => {
  const qa = document.getElementById('qa');
  const ready = qa && qa.style.opacity === '1' && document.fonts.status === 'loaded'
    && [...document.images].every(image => image.complete);
  return Boolean(ready);
})()"""

MEASURE_JS = """(() => {
  const root = document.documentElement;
  const edge = root.clientWidth;
  const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (el.classList.length) name += '.' + [...el.classList].join('.');
    return name + ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50) + '"';
  };
  // The right edge of what is drawn of el: ancestors that clip (overflow not visible) cut it.
  const visibleRight = el => {
    let right = el.getBoundingClientRect().right;
    for (let up = el.parentElement; up && up !== root; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.clip !== 'auto' && style.position === 'absolute') return -Infinity;
      if (style.overflowX !== 'visible') right = Math.min(right, up.getBoundingClientRect().right);
    }
    return right;
  };
  const scrollbars = [], pastEdge = [];
  for (const el of document.querySelectorAll('body, body *')) {
    const style = getComputedStyle(el);
    const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
    if (scrolls && el.scrollWidth > el.clientWidth)
      scrollbars.push(describe(el) + ' (' + el.scrollWidth + ' > ' + el.clientWidth + ')');
    const box = el.getBoundingClientRect();
    const visible = box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
    if (visible && visibleRight(el) > edge + 0.5)
      pastEdge.push(describe(el) + ' (right ' + Math.round(box.right) + ' > ' + edge + ')');
  }
  // Whatever element scrolls the page (body in quirks mode), and the proof: can it scroll sideways?
  const page = document.scrollingElement || root;
  const [x, y] = [window.scrollX, window.scrollY];
  window.scrollTo(x + 100000, y);
  const pageScrolls = window.scrollX > 0 || page.scrollWidth > page.clientWidth;
  window.scrollTo(x, y);
  return {
    innerWidth: window.innerWidth,
    documentScrolls: pageScrolls,
    documentScrollWidth: page.scrollWidth,
    scrollbars: scrollbars,
    pastEdge: pastEdge,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    formulas: document.querySelectorAll('mjx-container').length,
    unrendered: /\\\\\\(|\\\\\\[/.test(document.getElementById('qa').innerText),
    bodyClass: document.body.className,
  };
})()"""

_busy = False


def _poll() -> None:
    global _busy
    if _busy or mw.col is None:
        return
    requests = sorted(
        DRIVER_DIR.glob("request-*.json"), key=lambda path: int(path.stem.split("-")[1])
    )
    if not requests:
        return
    request = json.loads(requests[0].read_text())
    requests[0].unlink()
    _busy = True

    def done(result: dict) -> None:
        global _busy
        answer = Path(request["answer"])
        answer.with_suffix(".tmp").write_text(json.dumps(result))
        answer.with_suffix(".tmp").rename(answer)
        _busy = False

    try:
        COMMANDS[request["command"]](request, done)
    except Exception:
        done({"error": traceback.format_exc()})


def state(request: dict, done) -> None:
    col = mw.col
    done(
        {
            "collection_mod": col.mod,
            "note_type_mods": {
                entry.name: col.models.get(entry.id)["mod"]
                for entry in col.models.all_names_and_ids()
            },
            "note_mods": {
                str(note_id): mod for note_id, mod in col.db.all("select id, mod from notes")
            },
        }
    )


def review(request: dict, done) -> None:
    mw.set_theme(Theme.DARK if request["night"] else Theme.LIGHT)
    cards = [mw.col.get_card(card_id) for card_id in request["card_ids"]]
    mw.col.decks.select(cards[0].did)
    mw.moveToState("review")  # Anki's reviewer with its own page (reviewer.js, MathJax)
    if mw.state != "review":
        raise RuntimeError(f"the reviewer did not open (Anki is in state '{mw.state}')")
    mw.reviewer._initWeb()  # a fresh page in the chosen theme
    _fit_web_view(request["width"], request.get("height", 800))
    steps = [(card, side) for card in cards for side in ("question", "answer")]
    results: list[dict] = []
    shots = Path(request["screenshots"])
    shots.mkdir(parents=True, exist_ok=True)
    theme = "night" if request["night"] else "day"

    def next_side() -> None:
        if not steps:
            done({"sides": results})
            return
        card, side = steps.pop(0)
        reviewer = mw.reviewer
        reviewer.web.eval("document.getElementById('qa').style.opacity = '0';")
        reviewer.card = card
        reviewer._showQuestion() if side == "question" else reviewer._showAnswer()
        deadline = time.monotonic() + SIDE_TIMEOUT

        def inject() -> None:
            if request.get("inject"):
                html = json.dumps(request["inject"])
                reviewer.web.eval(
                    f"document.getElementById('qa').insertAdjacentHTML('beforeend', {html});"
                )
            QTimer.singleShot(150, measure)  # let the page paint what the screenshot will show

        def measure() -> None:
            reviewer.web.evalWithCallback(MEASURE_JS, record)

        def record(found: dict) -> None:
            path = shots / f"{theme}-{card.id}-{side}.png"
            reviewer.web.grab().save(str(path), "PNG")
            results.append(
                {
                    "card_id": card.id,
                    "side": side,
                    "theme": theme,
                    "screenshot": str(path),
                    **(found or {}),
                }
            )
            next_side()

        def wait() -> None:
            def check(shown) -> None:
                if shown:
                    inject()
                elif time.monotonic() > deadline:
                    results.append(
                        {"card_id": card.id, "side": side, "theme": theme, "timeout": True}
                    )
                    next_side()
                else:
                    QTimer.singleShot(100, wait)

            reviewer.web.evalWithCallback(SHOWN_JS, check)

        QTimer.singleShot(100, wait)

    next_side()


def _fit_web_view(width: int, height: int) -> None:
    """Resize the main window so that the reviewer's web view itself is `width` px wide."""
    mw.setMinimumSize(0, 0)
    mw.showNormal()
    mw.resize(width, height)
    mw.resize(width + (mw.width() - mw.web.width()), height)


COMMANDS = {"state": state, "review": review}


def _start_polling() -> None:
    timer = QTimer(mw)
    timer.timeout.connect(_poll)
    timer.start(200)


if DRIVER_DIR.name:
    gui_hooks.main_window_did_init.append(_start_polling)
