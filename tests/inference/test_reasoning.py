"""ThinkTagSplitter: inline <think> reasoning split correctly under any chunking."""

from __future__ import annotations

import itertools

import pytest

from inference.events import ContentDelta, ReasoningDelta
from inference.reasoning import ThinkTagSplitter, split_reasoning
from inference.tokens import estimate_message_tokens, estimate_tokens

R1_OUTPUT = "<think>\nplan</think>\n\nanswer"


def run(chunks: list[str], *, starts_open: bool = False) -> tuple[str, str, ThinkTagSplitter]:
    splitter = ThinkTagSplitter(starts_open=starts_open)
    events = []
    for chunk in chunks:
        events.extend(splitter.feed(chunk))
    events.extend(splitter.finish())
    assert all(event.text for event in events), f"empty delta in {events}"
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    return reasoning, content, splitter


def split_at(text: str, *cuts: int) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("cut", range(len(R1_OUTPUT) + 1))
def test_every_single_split_position(cut: int) -> None:
    reasoning, content, splitter = run(split_at(R1_OUTPUT, cut))
    assert (reasoning, content) == ("plan", "answer")
    assert not splitter.ended_in_implicit_reasoning
    assert not splitter.stray_close_seen


def test_every_pair_of_split_positions() -> None:
    for first, second in itertools.combinations(range(len(R1_OUTPUT) + 1), 2):
        reasoning, content, _ = run(split_at(R1_OUTPUT, first, second))
        assert (reasoning, content) == ("plan", "answer"), (first, second)


def test_one_char_per_chunk() -> None:
    assert run(list(R1_OUTPUT))[:2] == ("plan", "answer")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("<think>reasoning</think>answer", "<think>"),
        ("<think>reasoning</think>answer", "</think>"),
        ("  <think>reasoning</think>\nanswer", "<think>"),
        ("<think>reasoning\n</think>\n\nanswer", "</think>"),
    ],
)
def test_tag_split_in_every_place(text: str, tag: str) -> None:
    start = text.index(tag)
    for cut in range(start + 1, start + len(tag)):
        reasoning, content, _ = run(split_at(text, cut))
        assert (reasoning.strip(), content) == ("reasoning", "answer"), cut
        # ...and with the rest of the text dribbling in one char at a time
        reasoning, content, _ = run([text[:cut], *text[cut:]])
        assert (reasoning.strip(), content) == ("reasoning", "answer"), cut


def test_multiline_reasoning_keeps_inner_whitespace() -> None:
    text = "<think>\nstep 1\n\nstep 2\n</think>\n\n## Answer\n\nbody"
    reasoning, content, _ = run(list(text))
    assert reasoning == "step 1\n\nstep 2\n"
    assert content == "## Answer\n\nbody"


def test_starts_open_missing_opening_tag() -> None:
    text = "\nplan step</think>\n\nanswer"
    for cut in range(len(text) + 1):
        reasoning, content, splitter = run(split_at(text, cut), starts_open=True)
        assert (reasoning, content) == ("plan step", "answer")
        assert not splitter.ended_in_implicit_reasoning


def test_starts_open_accepts_explicit_opening_tag() -> None:
    reasoning, content, splitter = run(list(R1_OUTPUT), starts_open=True)
    assert (reasoning, content) == ("plan", "answer")
    assert not splitter.ended_in_implicit_reasoning


def test_starts_open_without_any_tag_is_implicit_reasoning() -> None:
    reasoning, content, splitter = run(["Paris is the ", "capital."], starts_open=True)
    assert (reasoning, content) == ("Paris is the capital.", "")
    assert splitter.ended_in_implicit_reasoning


def test_no_tags_at_all_is_content() -> None:
    reasoning, content, splitter = run(["Just ", "an answer."])
    assert (reasoning, content) == ("", "Just an answer.")
    assert not splitter.ended_in_implicit_reasoning
    assert not splitter.stray_close_seen


@pytest.mark.parametrize(
    "text",
    [
        "a < b and b > c",
        "<b>bold</b> text",
        "x </th y",
        "<thinking> is not a tag",
        "ends with <",
        "ends with </thi",
        "if a<b: return </div>",
    ],
)
@pytest.mark.parametrize("chunking", ["whole", "chars"])
def test_angle_brackets_in_content_pass_through(text: str, chunking: str) -> None:
    chunks = [text] if chunking == "whole" else list(text)
    assert run(chunks)[:2] == ("", text)


def test_opening_tag_is_only_recognised_at_the_start() -> None:
    text = "Use the <think> tag like this: <think>x</think>"
    reasoning, content, splitter = run(list(text), starts_open=False)
    # The "</think>" is a stray close (no opening tag at the start): content continues.
    assert reasoning == ""
    assert content == "Use the <think> tag like this: <think>x"
    assert splitter.stray_close_seen


def test_tags_after_the_think_block_are_literal() -> None:
    reasoning, content, _ = run(list("<think>a</think>b <think>c</think> d"))
    assert (reasoning, content) == ("a", "b <think>c</think> d")


def test_unterminated_think_at_end_stays_reasoning() -> None:
    reasoning, content, splitter = run(["<think>still thinking about </thi"])
    assert (reasoning, content) == ("still thinking about </thi", "")
    assert splitter.in_reasoning


def test_empty_think_block() -> None:
    assert run(list("<think>\n\n</think>\n\nanswer"))[:2] == ("", "answer")


def test_stray_close_tag_without_opening() -> None:
    reasoning, content, splitter = run(["thought", " more</thi", "nk>\n\nanswer"])
    assert (reasoning, content) == ("", "thought moreanswer")
    assert splitter.stray_close_seen


def test_text_is_emitted_as_early_as_possible() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed("<think>\nplan") == [ReasoningDelta("plan")]
    assert splitter.feed(" more </th") == [ReasoningDelta(" more ")]  # only "</th" held
    assert splitter.feed("ink>\n\nans") == [ContentDelta("ans")]
    assert splitter.feed("wer <") == [ContentDelta("wer <")]  # after close: nothing held
    assert splitter.finish() == []


def test_only_possible_tag_prefix_is_held_back() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed("abc <") == [ContentDelta("abc ")]
    assert splitter.feed("b>") == [ContentDelta("<b>")]
    assert splitter.finish() == []


def test_leading_whitespace_only_chunks_emit_nothing() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed("\n") == []
    assert splitter.feed("  <think>") == []
    assert splitter.feed("\n") == []
    assert splitter.feed("x") == [ReasoningDelta("x")]


# -- split_reasoning (non-streamed) -----------------------------------------------


def test_split_reasoning_complete_text() -> None:
    assert split_reasoning(R1_OUTPUT) == ("plan", "answer", False)
    assert split_reasoning("plan\n</think>\n\nanswer", starts_open=True) == (
        "plan",
        "answer",
        False,
    )
    assert split_reasoning("just text") == ("", "just text", False)
    assert split_reasoning("direct answer", starts_open=True) == ("direct answer", "", True)


def test_split_reasoning_relabels_stray_close() -> None:
    assert split_reasoning("thinking...\n</think>\n\nanswer") == ("thinking...", "answer", False)


# -- token estimates (tokens.py; kept here to stay dependency-free) -----------------


def test_estimate_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("こんにちは") == 5
    assert estimate_tokens("안녕") == 2
    assert estimate_tokens("hi 你好") == 2 + 1  # two CJK + ceil(3 / 4)
    assert estimate_tokens("x" * 1001) == 251


def test_estimate_message_tokens() -> None:
    assert estimate_message_tokens([]) == 0
    messages = [
        {"role": "system", "content": "abcd" * 5},
        {"role": "user", "content": [{"type": "text", "text": "abcd"}]},
        {"role": "assistant", "content": None},
    ]
    assert estimate_message_tokens(messages) == (4 + 5) + (4 + 1) + (4 + 0) + 2


@pytest.mark.parametrize("starts_open", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        "Plain words, <b>markup</b> and a late <think> that stays text.",
        "  \n lead, then </think> mid-way, then <think> and </think> again",
        "<think>\n step one <not a tag> step two </think>\n\n answer <with> tags",
    ],
)
def test_token_sized_chunks_match_whole_text(text: str, starts_open: bool) -> None:
    # Token-sized pieces without "<" take the splitter's fast path; the result must be
    # exactly what feeding the whole text at once gives.
    tokens = [text[i : i + 3] for i in range(0, len(text), 3)]
    whole = run([text], starts_open=starts_open)
    pieces = run(tokens, starts_open=starts_open)
    assert pieces[:2] == whole[:2]
    assert pieces[2].stray_close_seen == whole[2].stray_close_seen
    assert pieces[2].ended_in_implicit_reasoning == whole[2].ended_in_implicit_reasoning
