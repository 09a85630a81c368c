"""The fake LLM server, proven against the real ``anthropic`` and ``openai`` SDKs.

If these pass, other tests can trust that what the fake sends is what the SDKs
accept (including retries, streaming and error classes), so a failure
elsewhere is a claw bug rather than a fake bug.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest

from tests.fakes.llm import DEFAULT_TEXT, Error, FakeLLM, Hang, Reply, ToolResult, ToolUse

TOOLS_ANTHROPIC = [
    {"name": "get_time", "description": "Current time", "input_schema": {"type": "object"}},
    {"name": "roll", "description": "Roll dice", "input_schema": {"type": "object"}},
]
TOOLS_OPENAI = [
    {"type": "function", "function": {"name": t["name"], "parameters": t["input_schema"]}}
    for t in TOOLS_ANTHROPIC
]
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
TWO_CALLS = [ToolUse("get_time", {"tz": "UTC"}), ToolUse("roll", {"n": 2})]


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture
async def claude(fake: FakeLLM) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=fake.url, api_key="sk-ant-test") as client:
        yield client


@pytest.fixture
async def gpt(fake: FakeLLM) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=fake.openai_url, api_key="sk-test") as client:
        yield client


def user(text: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------- Anthropic


async def test_anthropic_text(fake: FakeLLM, claude: anthropic.AsyncAnthropic) -> None:
    fake.script(Reply(text="hello there"))

    message = await claude.messages.create(
        model="claude-test", max_tokens=100, system="Be brief.", messages=user("hi")
    )

    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "hello there"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.model == "claude-test"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens == 10
    assert message.usage.cache_read_input_tokens == 0
    [request] = fake.requests
    assert (request.api, request.path, request.stream) == ("anthropic", "/v1/messages", False)
    assert request.api_key == "sk-ant-test"  # anthropic 2.x sends it as a Bearer token
    assert "anthropic-version" in request.headers
    assert request.system_text() == "Be brief."
    assert request.last_user_text() == "hi"


async def test_anthropic_parallel_tool_use(fake: FakeLLM, claude: anthropic.AsyncAnthropic) -> None:
    fake.script(Reply(text="Checking.", tool_calls=TWO_CALLS))

    message = await claude.messages.create(
        model="claude-test", max_tokens=100, tools=TOOLS_ANTHROPIC, messages=user("time? roll!")  # type: ignore[arg-type]
    )

    assert message.stop_reason == "tool_use"
    text, first, second = message.content
    assert text.type == "text" and text.text == "Checking."
    assert first.type == "tool_use" and second.type == "tool_use"
    assert (first.name, first.input) == ("get_time", {"tz": "UTC"})
    assert (second.name, second.input) == ("roll", {"n": 2})
    assert first.id.startswith("toolu_") and first.id != second.id
    assert fake.requests[0].tool_names() == ["get_time", "roll"]


async def test_anthropic_stream_rebuilds_tool_use(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    calls = [ToolUse("get_time", {"tz": "Europe/Paris"}, id="toolu_fixed"), TWO_CALLS[1]]
    fake.script(Reply(text="Let me look that up.", tool_calls=calls, usage={"cache_read": 5}))

    async with claude.messages.stream(
        model="claude-test", max_tokens=100, tools=TOOLS_ANTHROPIC, messages=user("go")  # type: ignore[arg-type]
    ) as stream:
        streamed_text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()

    assert streamed_text == "Let me look that up."
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use", "tool_use"]
    tool_uses = [b for b in final.content if b.type == "tool_use"]
    assert [(b.id, b.name, b.input) for b in tool_uses][0] == (
        "toolu_fixed",
        "get_time",
        {"tz": "Europe/Paris"},
    )
    assert tool_uses[1].input == {"n": 2}
    assert final.usage.output_tokens == 10 and final.usage.cache_read_input_tokens == 5
    assert fake.requests[0].stream is True


def test_anthropic_sync_client_tool_results_and_malformed_arguments(fake: FakeLLM) -> None:
    fake.script(Reply(tool_calls=[ToolUse("roll", '{"n": 2'), ToolUse("roll", '{"n": 3}')]))
    messages = [
        {"role": "user", "content": "roll twice"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "roll", "input": {}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "dice lost"}],
                    "is_error": True,
                },
            ],
        },
    ]

    with anthropic.Anthropic(base_url=fake.url, api_key="k") as client:
        message = client.messages.create(model="m", max_tokens=10, messages=messages)  # type: ignore[arg-type]

    # Anthropic's input is always an object: unparseable strings arrive wrapped.
    assert [b.input for b in message.content] == [{"_raw": '{"n": 2'}, {"n": 3}]  # type: ignore[union-attr]
    request = fake.requests[0]
    assert request.tool_results() == [
        ToolResult("toolu_1", "4", False),
        ("toolu_2", "dice lost", True),
    ]
    assert request.last_user_text() == "roll twice"  # tool-result-only turns are skipped


@pytest.mark.parametrize("status", [429, 529])
async def test_anthropic_retries_then_succeeds(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic, status: int
) -> None:
    fake.script(Error(status, retry_after=0), Reply(text="after retry"))

    message = await claude.messages.create(model="m", max_tokens=10, messages=user("hi"))

    assert message.content[0].text == "after retry"  # type: ignore[union-attr]
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "exc_type", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
    ],
)
async def test_anthropic_error_shapes(
    fake: FakeLLM, status: int, exc_type: type[anthropic.APIStatusError], error_type: str
) -> None:
    fake.script(Error(status, "nope", retry_after=7))
    async with anthropic.AsyncAnthropic(base_url=fake.url, api_key="k", max_retries=0) as client:
        with pytest.raises(exc_type) as caught:
            await client.messages.create(model="m", max_tokens=10, messages=user("hi"))

    assert caught.value.status_code == status
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.request_id is not None
    assert caught.value.body["error"] == {"type": error_type, "message": "nope"}  # type: ignore[index]


async def test_anthropic_count_tokens_and_models(fake: FakeLLM, claude: anthropic.AsyncAnthropic) -> None:
    counted = await claude.messages.count_tokens(model="m", messages=user("hello"))
    models = [m.id async for m in claude.models.list()]
    one = await claude.models.retrieve("claude-fake-1")

    assert counted.input_tokens > 0
    assert models == fake.models
    assert one.display_name
    assert fake.requests == []  # auxiliary endpoints neither record nor consume the script


# --------------------------------------------------------------------------- OpenAI


async def test_openai_tool_calls(fake: FakeLLM, gpt: openai.AsyncOpenAI) -> None:
    fake.script(Reply(tool_calls=[TWO_CALLS[0], ToolUse("roll", '{"n": 2', id="call_bad")]))

    completion = await gpt.chat.completions.create(
        model="gpt-test",
        tools=TOOLS_OPENAI,  # type: ignore[arg-type]
        messages=[{"role": "system", "content": "You are claw."}, {"role": "user", "content": "go"}],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    first, second = choice.message.tool_calls or []
    assert first.function.name == "get_time"  # type: ignore[union-attr]
    assert json.loads(first.function.arguments) == {"tz": "UTC"}  # type: ignore[union-attr]
    assert first.id.startswith("call_")
    assert (second.id, second.function.arguments) == ("call_bad", '{"n": 2')  # type: ignore[union-attr]
    assert completion.usage is not None and completion.usage.completion_tokens == 10
    request = fake.requests[0]
    assert (request.api, request.path) == ("openai", "/v1/chat/completions")
    assert request.api_key == "sk-test"
    assert request.system_text() == "You are claw."
    assert request.tool_names() == ["get_time", "roll"]


async def test_openai_stream_text_with_usage(fake: FakeLLM, gpt: openai.AsyncOpenAI) -> None:
    fake.script(Reply(text="streamed hello world", usage={"input_tokens": 100, "output_tokens": 7, "cache_read": 40}))

    stream = await gpt.chat.completions.create(
        model="gpt-test", messages=user("hi"), stream=True, stream_options={"include_usage": True}  # type: ignore[arg-type]
    )
    chunks = [chunk async for chunk in stream]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed hello world"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == [] and usage_chunk.usage is not None
    assert (usage_chunk.usage.prompt_tokens, usage_chunk.usage.completion_tokens) == (140, 7)
    assert usage_chunk.usage.total_tokens == 147
    assert usage_chunk.usage.prompt_tokens_details.cached_tokens == 40  # type: ignore[union-attr]
    assert all(c.usage is None for c in chunks[:-1])
    assert fake.requests[0].stream is True


async def test_openai_stream_helper_rebuilds_tool_calls(fake: FakeLLM, gpt: openai.AsyncOpenAI) -> None:
    fake.script(Reply(text="One moment.", tool_calls=TWO_CALLS))

    async with gpt.chat.completions.stream(
        model="gpt-test", messages=user("go"), tools=TOOLS_OPENAI  # type: ignore[arg-type]
    ) as stream:
        final = await stream.get_final_completion()

    message = final.choices[0].message
    assert message.content == "One moment."
    calls = [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]  # type: ignore[union-attr]
    assert calls == [("get_time", {"tz": "UTC"}), ("roll", {"n": 2})]
    assert final.choices[0].finish_reason == "tool_calls"


async def test_openai_500_then_success(fake: FakeLLM, gpt: openai.AsyncOpenAI) -> None:
    fake.script(Error(500, retry_after=0), Reply(text="recovered"))

    completion = await gpt.chat.completions.create(model="gpt-test", messages=user("hi"))

    assert completion.choices[0].message.content == "recovered"
    assert len(fake.requests) == 2


def test_openai_sync_client_errors_and_models(fake: FakeLLM) -> None:
    fake.script(Error(429, "slow down", retry_after=3))
    with openai.OpenAI(base_url=fake.openai_url, api_key="k", max_retries=0) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="m", messages=user("hi"))  # type: ignore[arg-type]
        models = [m.id for m in client.models.list()]

    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.message.endswith("slow down")
    assert caught.value.response.headers["retry-after"] == "3"
    assert models == fake.models


# --------------------------------------------------------------------------- fake behaviour


async def test_images_are_recorded_for_both_apis(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}
    await claude.messages.create(
        model="m",
        max_tokens=10,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]}],  # type: ignore[list-item]
    )
    await gpt.chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                ],
            }
        ],
    )

    anthropic_request, openai_request = fake.requests
    assert anthropic_request.images() == [image]
    assert anthropic_request.last_user_text() == "what is this?"
    assert [i["type"] for i in openai_request.images()] == ["image_url"]
    assert openai_request.last_user_text() == "and this?"


async def test_default_reply_and_responder(fake: FakeLLM, gpt: openai.AsyncOpenAI) -> None:
    first = await gpt.chat.completions.create(model="m", messages=user("anyone?"))
    fake.responder = lambda request: Reply(text=f"echo: {request.last_user_text()}")
    second = await gpt.chat.completions.create(model="m", messages=user("ping"))
    fake.script(Reply(text="scripted wins"))
    third = await gpt.chat.completions.create(model="m", messages=user("ping"))

    assert first.choices[0].message.content == DEFAULT_TEXT
    assert second.choices[0].message.content == "echo: ping"
    assert third.choices[0].message.content == "scripted wins"
    fake.clear()
    assert fake.requests == []


async def test_hold_blocks_until_released(fake: FakeLLM, claude: anthropic.AsyncAnthropic) -> None:
    gate = fake.hold()
    call = asyncio.create_task(claude.messages.create(model="m", max_tokens=10, messages=user("hi")))

    assert await asyncio.to_thread(fake.wait_for_requests, 1, 5)
    fake.script(Reply(text="released"))  # responses are chosen after release
    assert not call.done()
    gate.set()

    message = await call
    assert message.content[0].text == "released"  # type: ignore[union-attr]


async def test_hold_does_not_consume_script_when_client_hangs_up(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    gate = fake.hold()
    fake.script(Reply(text="for whoever asks next"))
    call = asyncio.create_task(claude.messages.create(model="m", max_tokens=10, messages=user("hi")))
    assert await asyncio.to_thread(fake.wait_for_requests, 1, 5)

    call.cancel()  # like a daemon killed mid-turn: the connection closes
    with pytest.raises(asyncio.CancelledError):
        await call
    gate.set()

    message = await claude.messages.create(model="m", max_tokens=10, messages=user("again"))
    assert message.content[0].text == "for whoever asks next"  # type: ignore[union-attr]


async def test_hang_makes_client_time_out(fake: FakeLLM) -> None:
    fake.script(Hang(seconds=30))
    async with anthropic.AsyncAnthropic(
        base_url=fake.url, api_key="k", timeout=0.5, max_retries=0
    ) as client:
        with pytest.raises(anthropic.APITimeoutError):
            await client.messages.create(model="m", max_tokens=10, messages=user("hi"))
    assert len(fake.requests) == 1


def test_wait_for_requests_times_out_without_traffic(fake: FakeLLM) -> None:
    assert fake.wait_for_requests(1, timeout=0.05) is False
