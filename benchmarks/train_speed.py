"""Training throughput on this machine's CPU with the embedded model (SmolLM2-135M): tokens per
second for LoRA (the default: bf16 autocast, no gradient checkpointing) against LoRA in fp32, LoRA
with gradient checkpointing, and full fine-tuning, on the same executor-sized examples.

    python benchmarks/train_speed.py [--steps 4] [--tokens 1024]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.config import TrainSettings
from planact.train.sft import train

PAGE = "\n".join(f'<div id="{i}">Row {i}: <a id="{i + 1000}">Item {i}</a> <button id="{i + 2000}">Buy</button></div>'
                 for i in range(1, 400))


def make_data(path: Path, n: int, approx_tokens: int) -> None:
    page = PAGE[: int(approx_tokens * 1.9)]  # ~2 characters per SmolLM2 token for this markup
    with path.open("w") as f:
        for i in range(n):
            msgs = [{"role": "system", "content": "You are the Executor of a web-browsing agent."},
                    {"role": "user", "content": f"## Task\nBuy item {i % 50}.\n\n## Current page\n{page}\n\nWrite the next action."},
                    {"role": "assistant", "content": f'# Element: the Buy button of item {i % 50}\n'
                                                     f'do(action="Click", element="{2000 + i % 50}")'}]
            f.write(json.dumps({"messages": msgs, "id": str(i)}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    configs = [("LoRA r16, bf16 autocast (default)", {}),
               ("LoRA r16, fp32", {"bf16": False}),
               ("LoRA r16, bf16, gradient checkpointing", {"gradient_checkpointing": True}),
               ("full fine-tuning, bf16", {"method": "full"})]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.jsonl"
        make_data(data, args.steps * args.batch + 2, args.tokens)
        for label, extra in configs:
            ts = TrainSettings(data=str(data), output=str(Path(tmp) / label.split(",")[0].replace(" ", "-")),
                               max_steps=args.steps, batch_size=args.batch, per_device_batch_size=args.batch,
                               eval_fraction=0.0, save_steps=10_000, max_length=args.tokens + 512, resume=False,
                               **extra)
            r = train("executor", ts)
            rows.append((label, r.train_tokens / max(1, r.steps), r.wall_s / max(1, r.steps), r.tokens_per_s))
    t = Table(title=f"SFT on CPU, SmolLM2-135M, batch {args.batch}, {args.steps} steps")
    for c in ("configuration", "tokens/step", "s/step", "tokens/s"):
        t.add_column(c, justify="left" if c == "configuration" else "right")
    for label, tps, sps, rate in rows:
        t.add_row(label, f"{tps:,.0f}", f"{sps:.2f}", f"{rate:,.0f}")
    Console(width=120).print(t)


if __name__ == "__main__":
    main()
