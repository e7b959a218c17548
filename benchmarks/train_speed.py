"""Training throughput on this machine's CPU with the embedded model (SmolLM2-135M): tokens per
second for LoRA (the default: bf16 autocast, no gradient checkpointing) against LoRA in fp32, LoRA
with gradient checkpointing, and full fine-tuning, on the same executor-sized examples.

    python benchmarks/train_speed.py [--steps 4] [--tokens 1024]

With `--lengths varied` the examples' lengths spread as the learning loop's executor examples do
(median about 420 tokens, a tail to 1,100) and the table compares batches in random order against
batches grouped by length (`group_by_length`, the loop's setting), in real (unpadded) tokens per second:

    python benchmarks/train_speed.py --lengths varied --steps 12 --batch 8
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planact.config import TrainSettings
from planact.train.sft import train

PAGE = "\n".join(f'<div id="{i}">Row {i}: <a id="{i + 1000}">Item {i}</a> <button id="{i + 2000}">Buy</button></div>'
                 for i in range(1, 400))


def make_data(path: Path, n: int, approx_tokens: int, varied: bool = False) -> None:
    rng = random.Random(0)
    with path.open("w") as f:
        for i in range(n):
            # varied: log-normal around 420 tokens, clipped to 120-1100 (the loop's executor examples)
            tokens = min(1100, max(120, int(rng.lognormvariate(6.04, 0.45)))) if varied else approx_tokens
            page = PAGE[: int(tokens * 1.9)]  # ~2 characters per SmolLM2 token for this markup
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
    ap.add_argument("--lengths", choices=["uniform", "varied"], default="uniform")
    args = ap.parse_args()
    varied = args.lengths == "varied"
    configs = [("LoRA r16, bf16 autocast (default)", {}),
               ("LoRA r16, fp32", {"bf16": False}),
               ("LoRA r16, bf16, gradient checkpointing", {"gradient_checkpointing": True}),
               ("full fine-tuning, bf16", {"method": "full"})]
    if varied:  # the learning loop's settings, in random order against grouped by length
        loop = {"lora_r": 8, "lora_alpha": 16, "gradient_checkpointing": True, "per_device_batch_size": 4}
        configs = [("LoRA r8, random order", loop), ("LoRA r8, grouped by length", {**loop, "group_by_length": True})]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.jsonl"
        # varied: exactly the examples the steps take, so that both orders train on the same tokens
        make_data(data, args.steps * args.batch + (0 if varied else 2), args.tokens, varied)
        for n, (label, extra) in enumerate(configs):
            ts = TrainSettings(data=str(data), output=str(Path(tmp) / f"run{n}"),
                               **{"per_device_batch_size": args.batch, **extra}, max_steps=args.steps,
                               batch_size=args.batch, eval_fraction=0.0, save_steps=10_000,
                               max_length=max(args.tokens, 1100) + 512, resume=False)
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
