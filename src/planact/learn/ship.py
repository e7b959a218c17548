"""Shipping a round's adapters as a model bundle: for each role its PEFT adapter and its llama.cpp
LoRA (both in float16), `bundle.json` (base, prompt version, the adapter of each role) and a model
card with the data, rounds, seeds, tokens and scores, and how to reproduce it. No base weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .state import LearnState

ROLE_FILES = ("adapter_config.json",)


def _f16_safetensors(src: Path, dst: Path) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = {k: v.astype("float16") for k, v in load_file(str(src)).items()}
    save_file(tensors, str(dst))


def ship(out: Path, dest: Path, round_: int | None = None, name: str | None = None,
         config_path: str | None = None) -> Path:
    """Copy round `round_` (default: the best) of the loop in `out` into `dest` as a bundle."""
    from ..train.base import trainable_base
    from ..train.gguf_lora import convert_adapter

    st = LearnState.load(out)
    r = round_ if round_ is not None else st.best_round
    if not r:
        raise ValueError(f"{out} has no kept round to ship yet (best: the base model)")
    src = out / "rounds" / str(r) / "adapters"
    manifest = json.loads((src / "bundle.json").read_text())
    learn_cfg = json.loads((out / "learn.json").read_text())["config"]["learn"]
    base_dir, _ = trainable_base(manifest["base"])
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    roles: dict[str, str] = {}
    from_round: dict[str, int] = {}
    for role, entry in manifest["roles"].items():
        adapter, earlier = _adapter_dir(src, entry)
        if adapter is None:
            roles[role] = entry  # a model spec of its own (say, the base): named as it is
            continue
        (tmp / role).mkdir()
        for f in ROLE_FILES:
            shutil.copy2(adapter / f, tmp / role / f)
        _f16_safetensors(adapter / "adapter_model.safetensors", tmp / role / "adapter_model.safetensors")
        convert_adapter(tmp / role, base_dir / "config.json", tmp / role / "adapter.gguf", dtype="float16")
        if (adapter / "planact_mix.json").exists():  # learn.train.mix: an average of two rounds' adapters
            shutil.copy2(adapter / "planact_mix.json", tmp / role / "planact_mix.json")
            trained = Path(json.loads((adapter / "planact_mix.json").read_text())["adapters"][-1])
        else:
            trained = adapter
        train_meta = json.loads((trained / "planact_train.json").read_text())
        (tmp / role / "planact_train.json").write_text(json.dumps(
            {k: train_meta[k] for k in ("role", "result", "settings")}, indent=1, default=str))
        roles[role] = role
        if earlier is not None:
            from_round[role] = earlier
    bundle = {"name": name or dest.name, "base": manifest["base"], "prompt_version": manifest["prompt_version"],
              "roles": roles, "round": r, "made_by": "planact learn"}
    if from_round:  # roles the round did not train: the adapters of the round they come from
        bundle["from_round"] = from_round
    recommended = recommended_agent(st.result(r), learn_cfg)
    if recommended:  # what the agent does with these models unless told otherwise (agent/factory.py)
        bundle["agent"] = recommended
    (tmp / "bundle.json").write_text(json.dumps(bundle, indent=1))
    (tmp / "MODEL_CARD.md").write_text(model_card(st, r, bundle, learn_cfg, config_path), encoding="utf-8")
    shutil.copy2(out / "success.svg", tmp / "success.svg")
    if dest.exists():
        shutil.rmtree(dest)
    tmp.replace(dest)
    return dest


def _adapter_dir(src: Path, entry: str) -> tuple[Path | None, int | None]:
    """The adapter folder a round's bundle entry names, and the round it was trained in when that is
    not this one: a role the round did not train names the previous round's adapter as a model spec
    (`local:/.../rounds/10/adapters/planner-dpo?prompt=v2`), and shipping copies it in like the others."""
    if (src / entry).is_dir():
        return src / entry, None
    from ..llm.spec import ModelSpec, ModelSpecError

    try:
        spec = ModelSpec.parse(entry)
    except ModelSpecError:
        return None, None
    path = Path(spec.target)
    if spec.provider != "local" or not (path / "adapter_model.safetensors").is_file():
        return None, None
    trained_in = path.parent.parent.name if path.parent.name == "adapters" else ""
    carried = path.parent / "bundle.json"  # that round carried the role over from an earlier one in turn
    if carried.exists() and path.name in (json.loads(carried.read_text()).get("from_round") or {}):
        return path, int(json.loads(carried.read_text())["from_round"][path.name])
    return path, int(trained_in) if trained_in.isdigit() else None


RECOMMENDED = ("ground_element", "avoid_futile", "type_from_task", "type_into_fields")  # executor settings a bundle passes on to the agent


def recommended_agent(res: Any, learn_cfg: dict[str, Any]) -> dict[str, bool]:
    """The executor settings of the validation configuration the round counted with (the best)."""
    agents = (learn_cfg.get("validate") or {}).get("agents") or {}
    chosen = agents.get(res.agent, {}) if res and res.agent else {}
    return {k: bool(chosen[k]) for k in RECOMMENDED if k in chosen}


def _alone(res: Any, learn_cfg: dict[str, Any]) -> bool:
    """Whether the round's best validation configuration ran without a planner."""
    agents = (learn_cfg.get("validate") or {}).get("agents") or {}
    return bool(res and res.agent and agents.get(res.agent, {}).get("no_planner"))


def model_card(st: LearnState, r: int, bundle: dict[str, Any], learn_cfg: dict[str, Any],
               config_path: str | None) -> str:
    res = st.result(r)
    base = st.result(0)
    lines = [f"# {bundle['name']}", "",
             f"Adapters for planact's three roles on `{bundle['base']}` (SmolLM2-135M-Instruct), made by "
             f"`planact learn` from the model's own rewarded rollouts (round {r} of the loop; prompts "
             f"`{bundle['prompt_version']}`). Each role folder holds a PEFT LoRA (`adapter_model.safetensors`) "
             "and the same LoRA for llama.cpp (`adapter.gguf`), both float16.", "",
             "Use: `planact run --planner local:{0} --executor local:{0}` (each role loads its own adapter)".format(
                 bundle["name"]) + (f"; it validated best as the executor alone: `planact run --executor "
                                    f"local:{bundle['name']} --no-planner`." if _alone(res, learn_cfg) else "."), "",
             *([f"Not retrained in round {r}: " + ", ".join(f"the {k} is round {v}'s" for k, v in
                                                         bundle["from_round"].items()) + ".", ""]
               if bundle.get("from_round") else []),
             *([f"The {', '.join(res.mix.get('unmixed', {}))} adapter is the average of round {r}'s and round "
               f"{res.mix['with_round']}'s ({res.mix['weight']:g} and {1 - res.mix['weight']:g}, `learn.train.mix`): "
               f"it validated at {res.mix['validation']:.1%}, round {r}'s own at {res.mix['unmixed_validation']:.1%}.",
               ""] if res and res.mix and res.mix.get("chosen") else []),
             "## Data", "",
             f"- Tasks ({len(learn_cfg['tasks'])}, suite `{learn_cfg['suite']}`): " + ", ".join(learn_cfg["tasks"]),
             f"- Rollout seeds from {learn_cfg['seed_start']} (1,000 a round); validation seeds "
             f"{(learn_cfg.get('validate') or learn_cfg.get('validate_'))['seeds']}. Seeds below 10000 (MiniWoB's evaluation seeds) were never used.",
             "- Training data comes only from the loop's own rollouts scored by the environment's reward (ORM "
             "`env`); the rollouts sample the policy and, on some steps, take a random action the page affords "
             "(epsilon-greedy exploration, `agent/explore.py`; the settings each round used are in the loop's "
             "`learn.json`); grounded plans and replanning targets by the "
             + (f"teacher `{learn_cfg['teacher']}`." if learn_cfg.get("teacher") else
                "offline annotator (steps written from the actions and the elements they acted on)."), ""]
    if res:
        lines += ["| role | examples | median tokens | max tokens | steps | training tokens | tokens/s |",
                  "|---|---|---|---|---|---|---|"]
        rows = [(role, ex, res.train.get(role, {})) for role, ex in res.examples.items()]
        for role, earlier in (bundle.get("from_round") or {}).items():  # roles carried over from an earlier round
            old = st.result(earlier)
            for key, ex in (old.examples.items() if old else []):
                if key == role or key.startswith(f"{role}-"):
                    rows.append((f"{key} (round {earlier})", ex, old.train.get(key, {})))
        for role, ex, tr in rows:
            lines.append(f"| {role} | {ex.get('examples', '-')} | {ex.get('tokens_median', '-')} | {ex.get('tokens_max', '-')} | "
                         f"{tr.get('steps', '-')} | {tr.get('train_tokens', '-')} | {tr.get('tokens_per_s', '-')} |")
        lines.append("")
    lines += ["## Rounds (validation success on held-out seeds)", "", "| round | validation | decision | minutes |",
              "|---|---|---|---|"]
    for x in sorted(st.rounds, key=lambda x: x.round):
        each = " (" + ", ".join(f"{k} {v:.1%}" for k, v in x.validation_agents.items()) + ")" \
            if len(x.validation_agents) > 1 else ""
        lines.append(f"| {x.round} | {x.validation:.1%}{each} | {'kept' if x.kept else 'not kept'} | "
                     f"{sum(x.seconds.values()) / 60:.1f} |")
    for b in st.baselines:  # a changed validation protocol: rounds validated again under the new one
        lines.append(f"\nRound {b['round']} validated again under protocol `{b['protocol']}` (in round "
                     f"{b['measured_in_round']}): {b['previous_score']:.1%} before, {b['score']:.1%} after"
                     + (f"; decided again: {b['decided_again']}." if "decided_again" in b else "."))
    if res and base:
        agent = f" (configuration `{res.agent}`)" if res.agent else ""
        score = st.best_score if r == st.best_round and st.best_score is not None else res.validation
        lines += ["", f"Validation: {base.validation:.1%} for the base model, {score:.1%} for round {r}{agent}. "
                  "Scores to report come from `planact eval` on seeds 0-4 (see the README's table), not from "
                  "these validation runs.", ""]
    lines += ["## Reproduce", "", "```bash",
              f"planact learn run --config {config_path or 'configs/learn/miniwob.yaml'}",
              f"planact learn ship --out {learn_cfg['out']} --name {bundle['name']}", "```", ""]
    return "\n".join(lines)
