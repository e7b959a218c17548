"""Model specs and the OpenAI-compatible backend against a real HTTP server on loopback."""

from __future__ import annotations

import pytest
from support.fake_openai import FakeServer

from planact.llm import ChatMessage, GenerationOptions, LLMError, ModelSpec, ModelSpecError, load_model
from planact.llm.openai_backend import OpenAIBackend, RetryPolicy


@pytest.mark.parametrize("spec,provider,target,model,options", [
    ("local:smollm2-135m", "local", "smollm2-135m", None, {}),
    ("local:/ckpt/planner-lora", "local", "/ckpt/planner-lora", None, {}),
    ("openai:gpt-4o", "openai", "gpt-4o", "gpt-4o", {}),
    ("openai-compatible:http://host:8000/v1#llama-70b", "openai-compatible", "http://host:8000/v1", "llama-70b", {}),
    ("openai-compatible:http://host:8000/v1/#m?mode=completions&template=llama3", "openai-compatible",
     "http://host:8000/v1", "m", {"mode": "completions", "template": "llama3"}),
    ("hf:/x?device=cpu", "hf", "/x", None, {"device": "cpu"}),
])
def test_spec_parsing(spec, provider, target, model, options):
    s = ModelSpec.parse(spec)
    assert (s.provider, s.target, s.model, s.options) == (provider, target, model, options)


@pytest.mark.parametrize("bad", ["smollm2", "gpt:4o", "openai-compatible:host:8000", "local:"])
def test_bad_specs_are_explained(bad):
    with pytest.raises(ModelSpecError, match="model spec"):
        ModelSpec.parse(bad)


def test_missing_local_model_is_a_clear_error(tmp_path):
    with pytest.raises(LLMError, match="no local model"):
        load_model(f"local:{tmp_path}/nothing-here")


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


MSGS = [ChatMessage("system", "be brief"), ChatMessage("user", "click 3")]


def backend(server, **kw):
    sleeps = []
    kw.setdefault("retry", RetryPolicy(max_retries=3))
    b = OpenAIBackend(model="m", base_url=server.url, sleep=sleeps.append, **kw)
    return b, sleeps


def test_chat_mode_returns_text_usage_and_latency(server):
    b, _ = backend(server)
    g = b.generate(MSGS, GenerationOptions(max_tokens=20))
    assert g.text == 'do(action="Click", element="3")' and g.usage.prompt_tokens == 11 and g.latency_s > 0
    assert g.usage.cached_tokens == 8  # the server's prompt_tokens_details.cached_tokens
    path, body = server.requests[0]
    assert path == "/v1/chat/completions" and body["messages"][1] == {"role": "user", "content": "click 3"}


def test_rate_limits_and_server_errors_are_retried_with_backoff(server):
    server.statuses = [429, 503]
    b, sleeps = backend(server)
    assert b.generate(MSGS).text.startswith("do(")
    assert len(server.requests) == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.9


def test_retry_after_408_409_and_x_should_retry_are_honoured(server):
    """As the openai client itself retries: the server's Retry-After wait, request timeouts and lock
    conflicts; and a server that says x-should-retry: false is believed."""
    server.statuses = [(429, {"Retry-After": "7"}), 408, (503, {"retry-after-ms": "250"}), 409]
    b, sleeps = backend(server, retry=RetryPolicy(max_retries=5))
    assert b.generate(MSGS).text.startswith("do(")
    assert len(server.requests) == 5 and sleeps[0] == 7.0 and sleeps[2] == 0.25
    server.statuses = [(503, {"x-should-retry": "false"})]
    with pytest.raises(LLMError, match="rejected \\(503\\)"):
        b.generate(MSGS)


def test_persistent_server_errors_give_up(server):
    server.statuses = [500] * 10
    b, sleeps = backend(server)
    with pytest.raises(LLMError, match="gave up after 4 attempts"):
        b.generate(MSGS)


def test_client_errors_are_not_retried(server):
    server.statuses = [400]
    b, sleeps = backend(server)
    with pytest.raises(LLMError, match="rejected \\(400\\)"):
        b.generate(MSGS)
    assert len(server.requests) == 1 and sleeps == []


def test_completions_mode_renders_with_the_models_own_template():
    """By default the served model's own template renders the prompt (llama.cpp's /apply-template here);
    a server that cannot say is a clear error naming the fallbacks."""
    s = FakeServer(pages={"/apply-template": {}})
    try:
        b = OpenAIBackend(model="m", base_url=s.url, mode="completions")
        b.generate(MSGS, GenerationOptions(prefill="<think>\n"))
        assert s.requests[-1][1]["prompt"] == "[system]be brief[user]click 3[assistant]<think>\n"
    finally:
        s.close()
    bare = FakeServer()
    try:
        with pytest.raises(LLMError, match="template=hf:.*chatml"):
            OpenAIBackend(model="m", base_url=bare.url, mode="completions")
    finally:
        bare.close()


def test_completions_mode_prefills_think(server):
    b, _ = backend(server, mode="completions", template="chatml")
    g = b.generate(MSGS, GenerationOptions(prefill="<think>\n"))
    _, body = server.requests[0]
    assert body["prompt"].endswith("<|im_start|>assistant\n<think>\n")
    assert g.text.startswith("<think>\nthinking</think>")


def test_grammar_is_sent_where_the_server_takes_it(server):
    b, _ = backend(server, grammar_field="guided_grammar")
    b.generate(MSGS, GenerationOptions(grammar='root ::= "x"'))
    assert server.requests[0][1]["guided_grammar"] == 'root ::= "x"'
    plain, _ = backend(server)
    g = plain.generate(MSGS, GenerationOptions(grammar='root ::= "x"'))
    assert "guided_grammar" not in server.requests[1][1] and "grammar ignored" in g.notes[0]


@pytest.mark.parametrize("pages,field,who", [
    ({"/props": {"default_generation_settings": {}, "total_slots": 1}}, "grammar", "llama.cpp server"),
    ({"/get_server_info": {"tokenizer_path": "x", "version": "0.4"}}, "ebnf", "SGLang"),
    ({"/version": {"version": "0.6.3"}}, "guided_grammar", "vLLM"),
    ({}, None, "did not say"),
])
def test_the_grammar_field_is_detected_from_what_the_server_is(pages, field, who):
    server = FakeServer(pages=pages)
    try:
        m = load_model(f"openai-compatible:{server.url}#m")  # grammar_field=auto by default
        g = m.generate(MSGS, GenerationOptions(grammar='root ::= "x"'))
        body = server.requests[0][1]
        if field:
            assert body[field] == 'root ::= "x"' and g.notes[0] == f"grammar sent as {field!r} ({who}, detected from " \
                f"{next(iter(pages))})"
        else:
            assert not {"grammar", "ebnf", "guided_grammar"} & set(body) and who in g.notes[0]
    finally:
        server.close()


def test_spec_without_model_name_asks_the_server(server):
    m = load_model(f"openai-compatible:{server.url}")
    assert m.model == "served-model"


def test_images_go_as_image_parts_only_to_vision_models(server):
    shot = b"\xff\xd8\xff\xe0fake-jpeg"
    msgs = [ChatMessage("user", "what is on the page?", images=(shot,))]
    vision = load_model(f"openai-compatible:{server.url}#m?vision=1")
    assert vision.accepts_images
    vision.generate(msgs)
    text_part, image_part = server.requests[0][1]["messages"][0]["content"]
    assert text_part == {"type": "text", "text": "what is on the page?"}
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")
    plain = load_model(f"openai-compatible:{server.url}#m")
    plain.generate(msgs)
    assert server.requests[1][1]["messages"][0]["content"] == "what is on the page?"
    vision.generate([ChatMessage("user", "and now?", images=(shot,), image_detail="low")])
    assert server.requests[2][1]["messages"][0]["content"][1]["image_url"]["detail"] == "low"
    assert "detail" not in image_part["image_url"]  # "auto": the server decides


def test_a_screenshot_is_scaled_to_its_token_budget():
    import io

    from PIL import Image

    from planact.llm.images import fit_image, image_tokens

    assert image_tokens(1280, 720) == 1105 and image_tokens(512, 512) == 255  # OpenAI's published examples
    assert image_tokens(2048, 4096) == 1105 and image_tokens(4000, 3000, "low") == 85
    buf = io.BytesIO()
    Image.new("RGB", (1280, 720), "white").save(buf, format="JPEG")
    shot = buf.getvalue()
    assert fit_image(shot, 0) == (shot, 1105, "auto") and fit_image(shot, 2000)[0] is shot
    small, cost, detail = fit_image(shot, 600)
    w, h = Image.open(io.BytesIO(small)).size
    assert detail == "high" and cost <= 600 and image_tokens(w, h) == cost and w / h == pytest.approx(16 / 9, 0.02)
    tiny, cost, detail = fit_image(shot, 100)
    assert (cost, detail) == (85, "low") and max(Image.open(io.BytesIO(tiny)).size) <= 512


def test_retries_stop_at_their_time_limit_as_well_as_their_count(server):
    import time

    server.statuses = [500] * 50
    b = OpenAIBackend(model="m", base_url=server.url, retry=RetryPolicy(max_retries=50, initial_delay_s=0.2,
                                                                        max_delay_s=0.2, max_total_s=0.5))
    started = time.perf_counter()
    # each wait is 0.1-0.2 s (jitter): 0.5 s holds 2 to 6 attempts, far below max_retries
    with pytest.raises(LLMError, match="gave up after [2-6] attempts"):
        b.generate(MSGS)
    assert time.perf_counter() - started < 2


def test_a_chat_template_that_reaches_for_python_internals_is_stopped(embedded_model, monkeypatch):
    """A GGUF's chat template is untrusted: compiled in Jinja's sandbox, it cannot walk to `os`."""
    from planact.llm.llamacpp_backend import compile_template

    evil = "{{ cycler.__init__.__globals__.os.system('id') }}"
    monkeypatch.setattr(embedded_model, "_template", compile_template(evil))
    with pytest.raises(LLMError, match="unsafe"):
        embedded_model.render([ChatMessage("user", "hi")])
    plain = "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    monkeypatch.setattr(embedded_model, "_template", compile_template(plain))
    assert embedded_model.render([ChatMessage("user", "hi")]) == "<user>hi"


def test_named_fallback_templates_match_their_tokenizers_layout():
    from planact.llm.templates import get_template

    msgs = [ChatMessage("system", "S"), ChatMessage("user", "U"), ChatMessage("assistant", "<think>x</think>A"),
            ChatMessage("user", "V")]
    assert "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nS<|eot_id|>" in get_template("llama3.1")(msgs)
    r1 = get_template("deepseek-r1")(msgs)
    assert "<think>" not in r1 and "<｜Assistant｜>A<｜end▁of▁sentence｜>" in r1  # earlier reasoning dropped
