import pytest

from inference.structured import StructuredOutputError, json_schema_format, parse_json_reply


@pytest.mark.parametrize(
    "reply",
    [
        '{"memories": [{"text": "likes tea"}]}',
        '<think>\nThe user said they like tea.\n</think>\n\n{"memories": [{"text": "likes tea"}]}',
        'Sure! Here it is:\n```json\n{"memories": [{"text": "likes tea"}]}\n```\nBye',
        'The result is {"memories": [{"text": "likes tea"},]} as requested.',
        '{"memories": [{"text": "likes tea"}]} {"extra": 1}',
        'thinking without an opening tag</think>{"memories": [{"text": "likes tea"}]}',
    ],
)
def test_finds_the_json_the_model_meant(reply):
    assert parse_json_reply(reply) == {"memories": [{"text": "likes tea"}]}


@pytest.mark.parametrize(
    "reply",
    ["", "   ", "I could not find any memories.", '{"memories": [{"text": "cut off', "[1, 2]"],
)
def test_unusable_replies_raise_one_clear_error(reply):
    with pytest.raises(StructuredOutputError):
        parse_json_reply(reply)


def test_lists_when_asked():
    assert parse_json_reply("Answer: [1, 2, 3]", expect=list) == [1, 2, 3]


def test_schema_format_shape():
    fmt = json_schema_format("memories", {"type": "object"})
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "memories"
