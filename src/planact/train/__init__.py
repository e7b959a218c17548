"""Supervised fine-tuning of planner, executor and replanner (Plan-and-Act §5) with TRL and PEFT,
and merging an adapter into a checkpoint that vLLM can serve."""
