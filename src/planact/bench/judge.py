"""Model judges that benchmarks score with: WebArena's fuzzy_match and unachievable (N/A) checks,
and WebVoyager's success judge. Prompts are versioned files in `prompts/`; each verdict keeps the
judge's whole response as evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..agent.prompts import load_prompt
from ..llm.base import LLM, ChatMessage, GenerationOptions, accepts_images


@dataclass
class Verdict:
    score: float
    response: str
    prompt: str  # prompt id, e.g. fuzzy_match.v1
    model: str
    clear: bool = True  # False when the response had no recognizable verdict (scored 0)
    usage: dict[str, int] = field(default_factory=dict)

    def evidence(self) -> dict:
        return {"judge": self.model, "prompt": self.prompt, "response": self.response, "score": self.score,
                **({} if self.clear else {"unclear": True}), **({"usage": self.usage} if self.usage else {})}


def judge_usage(details: object) -> dict[str, int]:
    """Calls and tokens of every judge verdict found in a score's details (summed)."""
    total = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "judge" in node and isinstance(node.get("usage"), dict):
                total["calls"] += 1
                for k in ("prompt_tokens", "completion_tokens"):
                    total[k] += int(node["usage"].get(k, 0))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(details)
    return total


class Judge:
    """Thread-safe if the model is. `max_tokens` follows the harness (768)."""

    def __init__(self, llm: LLM, prompt_version: str = "v1", prompt_dir: str | None = None,
                 max_tokens: int = 768) -> None:
        self.llm = llm
        self.version, self.prompt_dir, self.max_tokens = prompt_version, prompt_dir, max_tokens

    def _ask(self, name: str, images: tuple[bytes, ...] = (), **variables) -> tuple[str, str, dict]:
        prompt = load_prompt(name, self.version, self.prompt_dir, package="planact.bench")
        system, user = prompt.render(**variables)
        gen = self.llm.generate([ChatMessage("system", system), ChatMessage("user", user, images=images)],
                                GenerationOptions(max_tokens=self.max_tokens, temperature=0.0))
        usage = {"prompt_tokens": gen.usage.prompt_tokens, "completion_tokens": gen.usage.completion_tokens}
        return gen.text, prompt.id, usage

    def fuzzy_match(self, answer: str, reference: str, question: str) -> Verdict:
        text, pid, usage = self._ask("fuzzy_match", question=question, reference=reference, answer=answer)
        low = text.lower()
        if "partially correct" in low or "incorrect" in low:
            return Verdict(0.0, text, pid, self.llm.name, usage=usage)
        return Verdict(1.0 if "correct" in low else 0.0, text, pid, self.llm.name, "correct" in low, usage)

    def ua_match(self, answer: str, reason: str, question: str) -> Verdict:
        text, pid, usage = self._ask("ua_match", question=question, reason=reason, answer=answer)
        low = text.lower()
        if "different" in low:
            return Verdict(0.0, text, pid, self.llm.name, usage=usage)
        return Verdict(1.0 if "same" in low else 0.0, text, pid, self.llm.name, "same" in low, usage)

    def web_task(self, task: str, website: str, answer: str | None, url: str, page_text: str,
                 screenshot: bytes | None, reference: str | None, reference_type: str | None) -> Verdict:
        images = (screenshot,) if screenshot and accepts_images(self.llm) else ()
        text, pid, usage = self._ask("webvoyager", images=images, task=task, website=website, answer=answer,
                                     url=url, page_text=page_text, reference=reference,
                                     reference_type=reference_type or "", has_screenshot=bool(images))
        if "NOT SUCCESS" in text:
            return Verdict(0.0, text, pid, self.llm.name, usage=usage)
        return Verdict(1.0 if "SUCCESS" in text else 0.0, text, pid, self.llm.name, "SUCCESS" in text, usage)
