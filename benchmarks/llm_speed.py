"""Which local runtime should the embedded model use? Times one executor-sized call (a real
MiniWoB prompt, ~1.5k tokens in, up to 48 out) on each runtime, warm, and the constrained decode.

    python benchmarks/llm_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from rich.console import Console
from rich.table import Table

from planact.agent.grammars import action_grammar
from planact.llm import ChatMessage, GenerationOptions, load_model

PAGE = "\n".join(f'<div id="{i}">Row {i}: <a id="{i + 1000}">Item number {i}</a> <button id="{i + 2000}">Buy</button></div>'
                 for i in range(1, 60))
MESSAGES = [
    ChatMessage("system", "You are the Executor of a web-browsing agent. Answer with one action such as "
                          'do(action="Click", element="12").'),
    ChatMessage("user", f"## Task\nBuy item number 17.\n\n## Current page\n{PAGE}\n\nWrite the next action."),
]


def time_call(model, options: GenerationOptions, repeats: int, cold: bool) -> tuple[float, float, int]:
    """cold: each call's page differs from the start of the user message (nothing to reuse but the
    system prompt); warm: only the end differs, as when the prefix (task, plan, history) repeats."""
    model.generate(MESSAGES, options)  # warm-up
    lat, toks = [], []
    for r in range(repeats):
        user = f"(call {r})\n" + MESSAGES[1].content if cold else MESSAGES[1].content + f"\n(call {r})"
        g = model.generate([MESSAGES[0], ChatMessage("user", user)], options)
        lat.append(g.latency_s)
        toks.append(g.usage.completion_tokens)
    return statistics.median(lat), statistics.median(toks), g.usage.prompt_tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    grammar = action_grammar([i for i in range(1, 60)] + [i + 1000 for i in range(1, 60)] + [i + 2000 for i in range(1, 60)])
    runtimes = [
        ("llama.cpp, Q8_0 (default)", "llamacpp:smollm2-135m"),
        ("llama.cpp, Q4_1 as shipped", "llamacpp:smollm2-135m?quant=none"),
        ("transformers, fp32", "hf:smollm2-135m"),
    ]
    table = Table(title="Embedded model (SmolLM2-135M) on CPU: one executor call, seconds")
    for c in ("runtime", "load", "prompt tok", "tok out", "cold prompt", "repeated prefix", "cold + grammar"):
        table.add_column(c, justify="left" if c == "runtime" else "right")
    for label, spec in runtimes:
        t0 = time.perf_counter()
        model = load_model(spec)
        load = time.perf_counter() - t0
        cold = time_call(model, GenerationOptions(max_tokens=48), args.repeats, cold=True)
        warm = time_call(model, GenerationOptions(max_tokens=48), args.repeats, cold=False)
        constrained = "n/a"
        if spec.startswith("llamacpp"):
            c = time_call(model, GenerationOptions(max_tokens=48, grammar=grammar), args.repeats, cold=True)
            constrained = f"{c[0]:.2f}"
        table.add_row(label, f"{load:.1f}", str(cold[2]), f"{cold[1]:.0f}", f"{cold[0]:.2f}", f"{warm[0]:.2f}",
                      constrained)
        del model
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
