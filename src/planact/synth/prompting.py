"""The pipeline's prompts (package data `synth/prompts/<name>.<version>.yaml`) and one call helper
that counts tokens and asks llama.cpp-style backends for a grammar when there is one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..agent.prompts import PromptTemplate, load_prompt
from ..llm.base import LLM, ChatMessage, GenerationOptions

PROMPT_VERSION = "v1"


def synth_prompt(name: str, version: str = PROMPT_VERSION, directory: str | None = None) -> PromptTemplate:
    return load_prompt(name, version, directory, package="planact.synth")


def prompt_id(p: PromptTemplate) -> str:
    return f"synth.{p.id}"


class PromptWorker:
    """Base of the stage workers that call one model with one prompt. Subclasses are dataclasses
    with `model` and `prompt_dir` fields and a `prompt_name`; the engine calls the worker with the
    process's model cache (once per thread or Ray actor) and closes it at the end."""

    prompt_name: str
    model: str
    prompt_dir: str | None

    def __call__(self, models):  # models: engine.ModelCache
        self.llm = models.get(self.model)
        self.prompt = synth_prompt(self.prompt_name, directory=self.prompt_dir)
        return self

    def close(self) -> None:
        pass


@dataclass
class Tally:
    """Tokens spent on one unit's records."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def as_usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


def ask(llm: LLM, prompt: PromptTemplate, variables: dict, tally: Tally, *, max_tokens: int = 512,
        temperature: float = 0.0, seed: int | None = None, grammar: str | None = None,
        feedback: str | None = None) -> str:
    system, user = prompt.render(**variables)
    if feedback:
        user += f"\n\nYour previous answer could not be used: {feedback}\nAnswer again in the required format."
    gen = llm.generate([ChatMessage("system", system), ChatMessage("user", user)],
                       GenerationOptions(max_tokens=max_tokens, temperature=temperature, seed=seed, grammar=grammar))
    tally.prompt_tokens += gen.usage.prompt_tokens
    tally.completion_tokens += gen.usage.completion_tokens
    tally.calls += 1
    return gen.text


_VERDICT = re.compile(r"^\W*(?P<key>[A-Za-z ]+?)\s*:\s*\**\s*(?P<val>yes|no|true|false)\b", re.I | re.M)
_FIELD = re.compile(r"^\W*(?P<key>Reason(?:ing)?)\s*:\s*(?P<val>.+)$", re.I | re.M)


def parse_verdict(text: str, key: str) -> tuple[bool | None, str]:
    """`Success: yes` / `Feasible: no` ... and the `Reason:`/`Reasoning:` line. (None, ...) if absent."""
    verdict = None
    for m in _VERDICT.finditer(text):
        if m.group("key").strip().lower() == key.lower():
            verdict = m.group("val").lower() in ("yes", "true")
    reasons = [m.group("val").strip() for m in _FIELD.finditer(text)]
    return verdict, (reasons[0] if reasons else "")


def verdict_grammar(key: str, reason_first: bool) -> str:
    reason = '"Reasoning: " [^\\n]{1,300} "\\n"' if reason_first else '"\\nReason: " [^\\n]{1,200}'
    verdict = f'"{key}: " ("yes" | "no")'
    return f"root ::= {reason} {verdict}\n" if reason_first else f"root ::= {verdict} {reason}\n"


def list_grammar(n: int, prefix: str = "- ") -> str:
    return f'root ::= item{{1,{max(1, n)}}}\nitem ::= "{prefix}" [^\\n]{{5,200}} "\\n"\n'


def parse_list(text: str) -> list[str]:
    items = []
    for line in text.splitlines():
        m = re.match(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$", line)
        if m:
            items.append(m.group(1).strip().strip('"'))
    return [i for i in items if i]
