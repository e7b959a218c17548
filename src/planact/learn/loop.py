"""The rounds: rollouts -> select -> annotate -> export -> train -> validate -> mix -> decide. Round 0
validates the base policy, the baseline every later round must beat. Each phase is resumable on
its own (append-only stores, training checkpoints, the eval log), and `state.json` says which
phase a round is in, so the same command picks up where a kill left it."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import PlanActConfig, TrainSettings
from ..errors import UsageError
from ..llm.registry import role_spec
from ..llm.spec import ModelSpec
from ..synth.engine import ModelCache, Progress
from . import data as data_phase
from .curriculum import allocate, explore_rates, why
from .report import write_report
from .rollouts import (RESERVED_SEEDS, round_counts, rollout_seed, run_rollouts, task_queries, task_records,
                       training_tasks)
from .prefer import build_pairs, build_preferences
from .prune import prune
from .select import select, write_selection
from .state import PHASES, LearnState, RoundResult
from .validate import agent_protocols, best_of, rate, run_validation, validation_protocol, validation_results

Log = Callable[[str], None]


class LearnError(UsageError):
    """A configuration the loop refuses (reserved seeds, a changed config on resume...)."""


def check_seeds(cfg: PlanActConfig) -> None:
    from ..bench.runner import parse_seeds

    ls = cfg.learn
    val = parse_seeds(ls.validate_.seeds)
    if ls.seed_start < RESERVED_SEEDS or (val and min(val) < RESERVED_SEEDS):
        raise LearnError(f"seeds below {RESERVED_SEEDS} are reserved for evaluation: learn.seed_start and "
                         f"learn.validate.seeds must be >= {RESERVED_SEEDS}")
    last = rollout_seed(ls.seed_start, ls.rounds, 999 * max(1, ls.rollouts.per_seed), ls.rollouts.per_seed)
    if any(ls.seed_start <= s <= last for s in val):
        raise LearnError(f"validation seeds {ls.validate_.seeds} overlap the rollout seeds {ls.seed_start}-{last}")


# What may change when a run resumes: the stopping rules, how rounds not yet run collect, select and
# train, and how they are validated (a loop is tuned as it goes; learn.json keeps each change and the
# round it took effect; a changed validation protocol has the best round validated again under it).
TUNABLE = {"rounds", "budget_hours", "plateau", "out", "rollouts", "curriculum", "select", "train", "validate_"}


def _fingerprint(cfg: PlanActConfig) -> str:
    """What must not change when a run resumes: tasks, seeds, base, prompts, validation."""
    d = cfg.learn.model_dump(exclude=TUNABLE, exclude_defaults=True)
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _tunable(cfg: PlanActConfig) -> dict[str, Any]:
    return cfg.learn.model_dump(mode="json", include=TUNABLE - {"out"})


class Learner:
    def __init__(self, cfg: PlanActConfig, progress: Progress | None = None, log: Log | None = None,
                 on_round: Callable[[RoundResult, LearnState], None] | None = None) -> None:
        self.cfg = cfg
        self.ls = cfg.learn
        self.out = Path(self.ls.out)
        self.progress = progress
        self.log = log or (lambda msg: None)
        self.on_round = on_round
        self.state = LearnState.load(self.out)
        self._tokenizer = None

    # ------------------------------------------------------------------ paths and policies
    def folder(self, round_: int) -> Path:
        return self.out / "rounds" / str(round_)

    def bundle(self, round_: int) -> Path:
        return self.folder(round_) / "adapters"

    def policy(self, round_: int | None = None) -> dict[str, str]:
        """Role -> spec: round `round_`'s bundle, or the best round's (the base before any)."""
        r = self.state.best_round if round_ is None else round_
        if not r:
            base = {"planner": self.ls.base, "executor": self.ls.base, "replanner": self.ls.base}
            return {**base, **(self.ls.actor or {})}
        spec = f"local:{self.bundle(r).resolve()}"
        return {"planner": spec, "executor": spec, "replanner": spec}

    # ------------------------------------------------------------------ the loop
    def prepare(self) -> None:
        check_seeds(self.cfg)
        task_queries(self.cfg)  # unknown tasks fail here, before any work
        self.out.mkdir(parents=True, exist_ok=True)
        fp_path = self.out / "learn.json"
        fp = _fingerprint(self.cfg)
        old: dict[str, Any] = json.loads(fp_path.read_text()) if fp_path.exists() else {}
        old_fp = _fingerprint(PlanActConfig.model_validate(old["config"])) if old.get("config") else old.get("fingerprint")
        if old and old_fp != fp:
            raise LearnError(f"{self.out} holds a loop with other settings ({old_fp} vs {fp}); "
                             f"only {', '.join(sorted(k.rstrip('_') for k in TUNABLE - {'out'}))} may change on a resume: use another out")
        tunable = _tunable(self.cfg)
        first = {k: v for k, v in (old.get("config", {}).get("learn") or tunable).items() if k in tunable}
        changes = old.get("changes") or [{"round": 0, "phase": "validate", "changed": [], "settings": first}]
        diff = sorted(k for k in tunable if changes[-1]["settings"].get(k) != tunable[k])
        if diff:
            changes.append({"round": self.state.round, "phase": self.state.phase, "changed": diff, "settings": tunable})
            self.log(f"settings changed ({', '.join(diff)}): in effect from round {self.state.round}, "
                     f"phase {self.state.phase}")
        fp_path.write_text(json.dumps({"fingerprint": fp, "config": self.cfg.model_dump(mode="json", by_alias=True),
                                       "changes": changes}, indent=1))

    def run(self) -> LearnState:
        self.prepare()
        st = self.state
        self._rebaseline()
        if st.finished and self._stop_reason() is not None:
            return st  # already stopped, and no more rounds or time were allowed
        st.finished = None
        while True:
            if st.phase == "done":
                pass  # the round was decided before a stop (a resumed run with more rounds allowed)
            elif st.round == 0:
                self._phase("validate", self._validate)
                self._decide()
            else:
                for phase in PHASES[PHASES.index(st.phase):]:
                    if phase == "decide":
                        self._decide()
                    else:
                        self._phase(phase, getattr(self, f"_{phase}"))
            reason = self._stop_reason()
            if reason:
                st.finished = reason
                st.save(self.out)
                self.log(f"stopped: {reason}")
                return st
            st.round += 1
            st.phase, st.phase_seconds = "rollouts", {}
            st.save(self.out)

    def _stop_reason(self) -> str | None:
        st, ls = self.state, self.ls
        if st.round >= ls.rounds:
            return f"all {ls.rounds} rounds done"
        if ls.budget_hours is not None and st.elapsed_s >= ls.budget_hours * 3600:
            return f"time budget of {ls.budget_hours} h spent"
        if st.not_kept_in_a_row >= ls.plateau:
            return f"plateau: {st.not_kept_in_a_row} rounds in a row did not improve validation"
        return None

    def _phase(self, name: str, fn: Callable[[], None]) -> None:
        st = self.state
        st.phase = name
        st.save(self.out)
        self.log(f"round {st.round}: {name}")
        t0 = time.perf_counter()
        fn()
        spent = time.perf_counter() - t0
        st.phase_seconds[name] = st.phase_seconds.get(name, 0.0) + spent
        st.elapsed_s += spent
        st.save(self.out)

    # ------------------------------------------------------------------ phases
    def _rollouts(self) -> None:
        r = self.state.round
        records = task_records(self.out, r - 1)
        tasks = training_tasks(self.cfg)
        alloc = allocate(records, tasks, self.ls.curriculum, self.ls.rollouts)
        explore = explore_rates(records, tasks, self.ls.curriculum, self.ls.rollouts)
        plan = {t: {"rollouts": n, "why": why(records.get(t), self.ls.curriculum), "explore": explore[t]}
                for t, n in alloc.items()}
        folder = self.folder(r)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "curriculum.json").write_text(json.dumps(plan, indent=1))
        stats = run_rollouts(self.cfg, self.out, r, alloc, self.policy(), ModelCache(), self.progress, explore)
        if stats.errors:
            raise RuntimeError(f"{stats.errors} rollouts failed ({stats.error_messages[0]}); run again to redo them")

    def _select(self) -> None:
        r = self.state.round
        chosen, counts = select(self.cfg, self.out, r)
        if self.cfg.learn.select.replay:
            chosen, stats = prune(self.cfg, self.out, chosen, self.progress)
            (self.folder(r) / "pruned.json").write_text(json.dumps(stats, indent=1))
        synth_dir = self.folder(r) / "synth"
        synth_dir.mkdir(parents=True, exist_ok=True)
        write_selection(chosen, synth_dir / "trajectories.jsonl")
        (self.folder(r) / "selected.json").write_text(json.dumps(counts, indent=1))

    def _annotate(self) -> None:
        models = ModelCache()
        stats = data_phase.annotate(self.cfg, self.folder(self.state.round) / "synth", models, self.progress)
        errors = sum(s.errors for s in stats)
        if errors:
            raise RuntimeError(f"{errors} annotation units failed; run again to redo them")

    def _export(self) -> None:
        r = self.state.round
        stats = data_phase.build_training_sets(self.cfg, self.folder(r) / "synth", self.tokenizer())
        prefer = self.ls.train.prefer
        synth = self.folder(r) / "synth"
        for role in (prefer.roles if prefer is not None else []):
            if role not in self.ls.train.roles:
                continue
            if prefer.objective == "dpo":
                stats[f"{role}-dpo"] = build_pairs(self.cfg, self.out, r, synth, role)
            else:
                stats[f"{role}-kto"] = build_preferences(self.cfg, self.out, r, synth / "data", role)
        (self.folder(r) / "examples.json").write_text(json.dumps(stats, indent=1))

    def tokenizer(self):  # noqa: ANN201
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            from ..train.base import trainable_base

            self._tokenizer = AutoTokenizer.from_pretrained(str(trainable_base(self.ls.base)[0]))
        return self._tokenizer

    def train_settings(self, role: str, data: Path, output: Path) -> TrainSettings:
        lt = self.ls.train
        values: dict[str, Any] = {**self.cfg.train.model_dump(), **lt.settings, "base": self.ls.base,
                                  "data": str(data), "output": str(output), "epochs": getattr(lt, role).epochs,
                                  "seed": self.ls.seed, "resume": True}
        if lt.max_steps is not None:
            values["max_steps"] = lt.max_steps
        elif getattr(lt, role).min_steps:
            n = sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line.strip())
            batch = int(values.get("batch_size", 8))
            epochs_steps = int(getattr(lt, role).epochs * n / batch + 0.999)
            values["max_steps"] = max(getattr(lt, role).min_steps, epochs_steps)
        return TrainSettings.model_validate(values)

    def _train(self) -> None:
        from ..train.sft import train

        r = self.state.round
        bundle = self.bundle(r)
        previous = self.policy()
        roles: dict[str, str] = {}
        trained: list[str] = []
        starts: dict[str, str] = {}
        for role in ("executor", "planner", "replanner"):
            data = self.folder(r) / "synth" / "data" / f"{role}.jsonl"
            out = bundle / role
            if role not in self.ls.train.roles or not data.exists() or not data.read_text().strip():
                roles[role] = role_spec(previous[role], role)  # not trained: the previous model
                continue
            start = self.start_adapter(role)
            preferred = self.ls.train.prefer is not None and role in self.ls.train.prefer.roles
            trained.append(role)
            if start is not None:
                starts[role] = str(start)
            if start is not None and preferred:  # iterated preference tuning: no SFT from the base again
                roles[role] = self._prefer(role, data, start, bundle).name
                continue
            if not (out / "planact_train.json").exists():
                settings = self.train_settings(role, data, out)
                if start is not None:
                    settings.init_adapter = str(start)
                result = train(role, settings, self._on_log(f"train {role}"))
                self.log(f"{role}: {result.train_examples} examples, {result.steps} steps, "
                         f"{result.train_tokens} tokens, {result.tokens_per_s} tokens/s")
            roles[role] = role
            if preferred:
                roles[role] = self._prefer(role, data, out, bundle).name
        manifest = {"base": self.ls.base, "prompt_version": self.ls.prompt_version, "roles": roles,
                    "trained": sorted(trained), "round": r, "made_by": "planact learn",
                    **({"started_from": starts} if starts else {})}
        bundle.mkdir(parents=True, exist_ok=True)
        (bundle / "bundle.json").write_text(json.dumps(manifest, indent=1))

    def start_adapter(self, role: str) -> Path | None:
        """The adapter a role's training starts from: None (the base) unless `learn.train.<role>.start` is
        best and the best round gives the role a trained adapter (its last stage's)."""
        if getattr(self.ls.train, role).start != "best" or not self.state.best_round:
            return None
        target = Path(ModelSpec.parse(role_spec(self.policy()[role], role)).target)
        return target if (target / "adapter_config.json").exists() else None

    def _prefer(self, role: str, data: Path, sft: Path, bundle: Path) -> Path:
        """The preference stages after a role's SFT; the adapter they end with (the SFT one if none ran).
        1. the pairs (or labelled rows) the export phase wrote, from `sft`;
        2. with dpo and `prefer.policy_pairs` (executor): the pairs from the policy's own answers on the
           successes' steps, as the adapter of stage 1 (or the SFT one) gives them, with some of stage 1's
           pairs, from that adapter. Each stage's adapter stays in the bundle beside the others."""
        pf = self.ls.train.prefer
        assert pf is not None
        current = sft
        first = data.with_name(f"{role}-{pf.objective}.jsonl")
        if first.exists() and pf.failure_stage:
            current = self._tune(role, first, bundle / f"{role}-{pf.objective}", current)
        if pf.objective != "dpo" or not pf.policy_pairs or role != "executor":
            return current
        mined = data.with_name(f"{role}-dpo-policy.jsonl")
        if not mined.exists():
            self._write_policy_pairs(mined, first, current)
        if mined.read_text(encoding="utf-8").strip():
            current = self._tune(role, mined, bundle / f"{role}-dpo-policy", current)
        return current

    def _tune(self, role: str, data: Path, output: Path, init: Path) -> Path:
        from ..train.preference import train_preference

        pf = self.ls.train.prefer
        assert pf is not None
        if not (output / "planact_train.json").exists():
            result = train_preference(role, self.prefer_settings(data, output, init),
                                      self._on_log(f"{pf.objective} {output.name}"))
            self.log(f"{output.name}: {result.train_examples} examples, {result.steps} steps, "
                     f"{result.train_tokens} tokens, {result.tokens_per_s} tokens/s")
        return output

    def _write_policy_pairs(self, path: Path, first: Path, adapter: Path) -> None:
        from ..llm.registry import load_model
        from ..synth.records import RecordStore
        from .prefer import policy_pairs, spread_by_task

        pf = self.ls.train.prefer
        assert pf is not None
        folder = self.folder(self.state.round) / "synth"
        successes = RecordStore(folder / "trajectories.jsonl").read(kept_only=True)
        llm = load_model(f"local:{adapter.resolve()}?prompt={self.ls.prompt_version}")
        progress = (lambda n, total: self.progress("mine executor", n, total)) if self.progress else None
        rows = policy_pairs(self.cfg, successes, llm, pf, progress)
        earlier = [json.loads(x) for x in first.read_text(encoding="utf-8").splitlines() if x.strip()] \
            if first.exists() else []
        rows += spread_by_task(earlier, max(1, pf.per_task // 2))  # what stage 1 taught stays in view
        random.Random(self.ls.seed + self.state.round).shuffle(rows)
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
        self.log(f"policy pairs: {len(rows)} (the adapter's own answers where a success's differ, and stage 1's)")

    def _on_log(self, label: str) -> Callable[[dict], None]:
        def on_log(logs: dict) -> None:
            if self.progress and logs.get("max_steps"):
                self.progress(label, int(logs.get("step", 0)), int(logs["max_steps"]))
        return on_log

    def prefer_settings(self, data: Path, output: Path, init: Path) -> TrainSettings:
        """A role's preference stage: the loop's training settings, then learn.train.prefer's own, from the
        role's SFT adapter, one pass (or min_steps) over the preference set."""
        pf = self.ls.train.prefer
        assert pf is not None
        values: dict[str, Any] = {**self.cfg.train.model_dump(), **self.ls.train.settings, **pf.settings,
                                  "base": self.ls.base, "data": str(data), "output": str(output), "epochs": pf.epochs,
                                  "seed": self.ls.seed, "resume": True, "objective": pf.objective,
                                  "init_adapter": str(init)}
        n = sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line.strip())
        steps = int(pf.epochs * n / int(values.get("batch_size", 8)) + 0.999)
        if self.ls.train.max_steps is not None:
            values["max_steps"] = self.ls.train.max_steps
        elif pf.min_steps:
            values["max_steps"] = max(pf.min_steps, steps)
        return TrainSettings.model_validate(values)

    def trained_roles(self, round_: int) -> list[str]:
        path = self.bundle(round_) / "bundle.json"
        return json.loads(path.read_text()).get("trained", []) if path.exists() else []

    def _validate(self) -> None:
        r = self.state.round
        if r and not self.trained_roles(r):
            return  # nothing was trained: the policy is the previous one, already validated
        run_validation(self.cfg, self.folder(r) / "validation", self.policy(r),
                       ModelCache(), self.progress)

    # ------------------------------------------------------------------ mix (a model soup)
    def _mix_pairs(self, r: int) -> dict[str, tuple[Path, Path]]:
        """Role -> (the best round's adapter, round r's) for the roles round r trained, where both are adapters."""
        pairs = {}
        if not self.state.best_round:
            return pairs
        best, new = self.policy(), self.policy(r)
        for role in self.trained_roles(r):
            old_a = Path(ModelSpec.parse(role_spec(best[role], role)).target)
            new_a = Path(ModelSpec.parse(role_spec(new[role], role)).target)
            if old_a != new_a and (old_a / "adapter_config.json").exists() and (new_a / "adapter_config.json").exists():
                pairs[role] = (old_a, new_a)
        return pairs

    def _mix(self) -> None:
        """learn.train.mix: a round whose validation did not rise above the best round's has its adapters
        averaged with the best round's (`adapters/<role>-mix`) and that policy validated
        (`validation-mix`); `_decide` takes the better of the two."""
        st, w, r = self.state, self.ls.train.mix, self.state.round
        manifest = self.bundle(r) / "bundle.json"
        if w is None or not r or not self.trained_roles(r) or "mixed" in json.loads(manifest.read_text()):
            return  # off, nothing trained, or already decided for the mix (a resumed decide)
        _, score = best_of(validation_results(self.cfg, self.folder(r) / "validation"))
        if st.best_score is None or score > st.best_score + self.ls.validate_.min_gain:
            return  # the round rose on its own
        pairs = self._mix_pairs(r)
        if not pairs:
            return
        from ..train.mix import mix_adapters

        policy = dict(self.policy(r))
        for role, (old_a, new_a) in pairs.items():
            out = self.bundle(r) / f"{role}-mix"
            if not (out / "planact_mix.json").exists():
                mix_adapters([old_a, new_a], [1.0 - w, w], out)
            policy[role] = f"local:{out.resolve()}?prompt={self.ls.prompt_version}"
        self.log(f"round {r}: {score:.1%} did not rise above round {st.best_round}'s {st.best_score:.1%}: "
                 f"validating {w:g} x round {r} + {1 - w:g} x round {st.best_round} ({', '.join(pairs)})")
        run_validation(self.cfg, self.folder(r) / "validation-mix", policy, ModelCache(), self.progress)

    def _choose_mix(self, r: int, score: float) -> dict[str, Any] | None:
        """The mix's record for round r (None when none was validated); when it beat the round's own adapters,
        the round's bundle is made to name the mixed adapters (the unmixed ones stay beside them)."""
        folder = self.folder(r) / "validation-mix"
        manifest_path = self.bundle(r) / "bundle.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        if "mixed" in manifest:
            return manifest["mixed"]
        if self.ls.train.mix is None or not folder.exists():
            return None
        results = validation_results(self.cfg, folder)
        agent, mix_score = best_of(results)
        mixed = {"weight": self.ls.train.mix, "with_round": self.state.best_round, "validation": mix_score,
                 "agent": agent, "validation_tasks": results[agent], "chosen": mix_score > score,
                 "unmixed_validation": score}
        if mixed["chosen"]:
            roles = dict(manifest["roles"])
            for role in self._mix_pairs(r):
                mixed.setdefault("unmixed", {})[role] = roles[role]
                roles[role] = f"{role}-mix"
            manifest["roles"] = roles
        manifest["mixed"] = mixed
        tmp = manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=1))
        tmp.replace(manifest_path)
        return mixed

    def _rebaseline(self) -> None:
        """When the validation protocol is not the one the best score was measured under (say, a new
        default of the agent's settings), validate the best round again
        under the current one, so that a round is only ever compared with a score measured like its own."""
        st = self.state
        proto, each = validation_protocol(self.cfg), agent_protocols(self.cfg)
        if st.best_score is None or st.protocol in (proto, None):
            if (st.protocol, st.agent_protocols) != (proto, each):  # a new loop, or an older state: from now on
                st.protocol, st.agent_protocols = proto, each
                st.save(self.out)
            return
        best = st.best_round or 0
        old = st.protocol
        kept = {k: v for k, v in st.agent_protocols.items() if k in each}
        if st.best_agent in each and kept == each:  # every configuration left, the best one included, unchanged
            # only configurations other than the best one were dropped: its score stands as measured
            self.log(f"validation protocol changed ({old} -> {proto}): configurations dropped "
                     f"({', '.join(sorted(set(st.agent_protocols) - set(each)))}); the best round's "
                     f"{st.best_score:.1%} ({st.best_agent}) stands")
            st.protocol, st.agent_protocols = proto, each
            st.save(self.out)
            return
        current = self.folder(st.round) / "validation"
        if st.round != best and st.phase in ("validate", "decide") and current.exists():
            current.rename(current.with_name(f"validation-{old}"))  # measured (partly) under the old protocol
        self.log(f"validation protocol changed ({old} -> {proto}): validating the best round ({best}) again")
        agent, score = self._validate_again(best, proto, old, st.best_score)
        self.log(f"best round {best}: {st.best_score:.1%} under {old}, {score:.1%} under {proto}")
        st.best_score, st.best_agent = score, agent
        self._redecide_last(best, proto, old)
        st.protocol, st.agent_protocols = proto, each
        st.save(self.out)
        write_report(self.out, st)

    def _validate_again(self, round_: int, proto: str, old: str, previous: float | None) -> tuple[str, float]:
        """Round `round_` validated under protocol `proto` (into its own folder), recorded in
        `state.baselines`; its best configuration and score."""
        st = self.state
        folder = self.folder(round_) / f"validation-{proto}"
        t0 = time.perf_counter()
        run_validation(self.cfg, folder, self.policy(round_), ModelCache(), self.progress)
        results = validation_results(self.cfg, folder)
        agent, score = best_of(results)
        st.baselines.append({"round": round_, "protocol": proto, "previous_protocol": old,
                             "previous_score": previous, "score": score, "agent": agent,
                             "agents": {k: rate(v) for k, v in results.items()}, "measured_in_round": st.round,
                             "seconds": round(time.perf_counter() - t0, 1)})
        return agent, score

    def _redecide_last(self, best: int, proto: str, old: str) -> None:
        """The newest round after the best one that was not kept lost to a score measured under the old
        protocol, by its own score under that protocol: it is validated again under the new one, and
        becomes the best round when it now rises above the best round's score (a fix to the mechanics
        can have hidden a better policy: round 12's executor typed into a button a grammar bug let it name)."""
        st = self.state
        later = [x.round for x in st.rounds if x.round > best and not x.kept and self.trained_roles(x.round)]
        if not later:
            return
        last = max(later)
        agent, score = self._validate_again(last, proto, old, next(x.validation for x in st.rounds if x.round == last))
        promoted = score > (st.best_score or 0.0) + self.ls.validate_.min_gain
        st.baselines[-1]["decided_again"] = "kept" if promoted else "not kept"
        self.log(f"round {last} (not kept under {old}): {score:.1%} under {proto} -> "
                 + (f"kept: it is the best round now (round {best}: {st.best_score:.1%})" if promoted
                    else f"still not kept (round {best}: {st.best_score:.1%})"))
        if promoted:
            st.best_round, st.best_score, st.best_agent, st.not_kept_in_a_row = last, score, agent, 0

    # ------------------------------------------------------------------ decision
    def _decide(self) -> None:
        st = self.state
        r = st.round
        st.phase = "decide"
        folder = self.folder(r)
        results = validation_results(self.cfg, folder / "validation")
        agent, score = best_of(results)
        val = results[agent]
        note = None
        mixed = self._choose_mix(r, score) if r and self.trained_roles(r) else None
        if mixed and mixed["chosen"]:  # the round's candidate is its adapters averaged with the best round's
            agent, score, val = mixed["agent"], mixed["validation"], mixed["validation_tasks"]
        if r == 0:
            kept = True
        elif not self.trained_roles(r):
            kept, note = False, "no training data yet: nothing to validate"
        else:
            kept = st.best_score is None or score > st.best_score + self.ls.validate_.min_gain
        result = RoundResult(round=r, kept=kept, validation=score, validation_tasks=val, agent=agent,
                             validation_agents={k: rate(v) for k, v in results.items()},
                             rollouts=round_counts(self.out, r) if r else {},
                             kept_instances=_read_json(folder / "selected.json"),
                             examples=_read_json(folder / "examples.json"),
                             train=_train_summaries(self.bundle(r)), seconds=dict(st.phase_seconds),
                             policy=self.policy(r), note=note, mix=mixed)
        st.rounds = [x for x in st.rounds if x.round != r] + [result]
        st.phase = "done"
        if kept:
            st.best_round, st.best_score, st.best_agent, st.not_kept_in_a_row = (r or None), score, agent, 0
        else:
            st.not_kept_in_a_row += 1
        st.save(self.out)
        write_report(self.out, st)
        if self.on_round:
            self.on_round(result, st)
        best = f"round {st.best_round}" if st.best_round else "the base"
        each = ", ".join(f"{k} {rate(v):.1%}" for k, v in results.items())
        self.log(f"round {r}: validation {score:.1%} ({each}) -> {'kept' if kept else 'not kept'}; best: {best} "
                 f"({st.best_score:.1%}, {st.best_agent})")




def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _train_summaries(bundle: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for p in sorted(bundle.glob("*/planact_train.json")):  # each role's SFT adapter, then its preference stages
        r = json.loads(p.read_text())["result"]
        out[p.parent.name] = {k: r[k] for k in ("train_examples", "steps", "train_tokens", "wall_s", "tokens_per_s")}
        out[p.parent.name]["final_loss"] = r["losses"][-1] if r.get("losses") else None
    return out
