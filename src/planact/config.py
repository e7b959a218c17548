"""The one configuration model. CLI options override a config file (YAML or JSON):

    models:
      planner: openai-compatible:http://localhost:8000/v1#planner-70b
      executor: local:smollm2-135m
    agent: {replan: every-step, cot: false, max_steps: 25}
    browser: {token_budget: 6000, allow_domains: []}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UsageError
from .llm.embedded import BASE_MODEL, DEFAULT_MODEL


def describe_validation(err: ValidationError) -> str:
    """A pydantic error as one line: where, what, and how many more."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the file"
    msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    given = first.get("input")
    shown = f" (got {given!r})" if first["type"] != "extra_forbidden" and not isinstance(given, dict | list) else ""
    more = len(err.errors()) - 1
    return f"{where}: {msg}{shown[:80]}" + (f"; and {more} more problem{'s' * (more > 1)}" if more else "")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelsConfig(_Strict):
    planner: str = DEFAULT_MODEL
    executor: str = DEFAULT_MODEL
    replanner: str | None = Field(None, description="defaults to the planner's model")


REPLAN_REASONS = ("failed", "no_effect", "navigated", "step_done", "asked", "plan_done", "interval")


class AgentSettings(_Strict):
    no_planner: bool = False
    replan: Literal["every-step", "never", "adaptive"] = Field("every-step", description=(
        "every-step: the replanner after every action (the paper); never: the first plan throughout; adaptive: "
        "the replanner only when one of `replan_on` happens"))
    replan_on: list[Literal[REPLAN_REASONS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(REPLAN_REASONS), description=(
            "adaptive replanning's triggers: failed (an action failed or did not parse), no_effect (the page "
            "did not change), navigated (a new address), step_done / asked (the executor's note says a plan step "
            "is done / asks for a new plan), plan_done (as many actions since the plan as it has steps), "
            "interval (`replan_every` actions since the last plan)"))
    replan_every: int = Field(4, ge=1, description="adaptive: replan at least this often (in actions)")
    vision: bool = Field(True, description=(
        "a planner or executor whose model takes images (an openai: model, or a spec's ?vision=1) also sees "
        "the page's screenshot; text-only models (the default ones) are unaffected. false: text only everywhere"))
    ground_element: bool | None = Field(None, description=(
        "the executor writes '# Element: ...' first, then its action may only use the ids of elements that show "
        "the text it quoted there (a label's field too); nothing quoted or nothing matching: any id. Two calls. "
        "Unset: as the executor's model bundle recommends (its bundle.json `agent`), else off"))
    type_from_task: bool | None = Field(None, description=(
        "what the executor types (Type, Search) is made of the task's own words, on grammar backends: a small "
        "model otherwise copies \"41nu\" as \"4\". Only for tasks whose typed values are in their text "
        "(MiniWoB's are). Unset: as the executor's model bundle recommends, else off"))
    type_into_fields: bool | None = Field(None, description=(
        "on grammar backends, Type and Search may only target a text field (input, textarea, editable or "
        "role=textbox) and Select Dropdown Option only a list (select, role=listbox/combobox): among the ids "
        "the executor's '# Element:' line named when one is such a field, else the page's. A small model "
        "otherwise types into the label it named. Unset: as the executor's model bundle recommends, else off"))
    image_tokens: int = Field(1105, ge=0, description=(
        "a screenshot sent to a vision model costs at most this many tokens (OpenAI's accounting; scaled down "
        "to fit, low detail under 255; 0: as taken). 1105 is a 1280x720 viewport at high detail"))
    prefix_cache: bool = Field(True, description=(
        "roles that share a local llama.cpp model each get a context of their own, so each keeps its prompt "
        "prefix cached between its turns (speed only; --no-prefix-cache: one shared context)"))
    cot: bool = False
    max_steps: int = Field(25, ge=1, le=10_000)
    episode_timeout_s: float = Field(1800.0, ge=0, description="an episode still running after this long ends "
                                     "as `timeout` (checked between steps; 0: no limit)")
    max_repeats: int = Field(3, ge=1)
    avoid_futile: bool | None = Field(None, description="an action that left the page unchanged is left out of "
                                      "the executor's grammar on that same page (grammar backends); episodes that "
                                      "would end as loops run on instead. Unset: as the executor's model bundle "
                                      "recommends, else off")
    grammar: bool = True
    grammar_notes: bool = Field(True, description="the executor's grammar allows `# Note:` lines")
    grammar_exit: bool = Field(True, description="the executor's grammar allows exit(...); off for exploration "
                                                 "on suites that take no answer (MiniWoB)")
    explore: float = Field(0.0, ge=0.0, le=1.0, description="data collection only: per step, the chance that a "
                           "random action the page affords replaces the executor's (agent/explore.py)")
    explore_seed: int = 0
    temperature: float = 0.0
    planner_max_tokens: int = 384
    executor_max_tokens: int = 160
    prompt_version: str = Field("auto", description="v1, v2 (compact), v3 (the actions so far before the page), "
                                                    "v4 (the page first, for the prefix cache), or auto: the "
                                                    "version each role's model was trained on (its spec's ?prompt=, "
                                                    "or its bundle's), else the default (v3)")
    prompt_dir: str | None = None


class BrowserSettings(_Strict):
    headless: bool = True
    executable_path: str | None = None
    allow_domains: list[str] = Field(default_factory=list)
    screenshots: bool = True
    viewport_only: bool = False
    token_budget: int = Field(4000, ge=100)
    page_timeout_s: float = Field(60.0, ge=0, description="each call into the page (observe, act, a task's "
                                  "reset and scoring) ends within this long; a hung page's browser is restarted "
                                  "and the episode ends as `timeout` (0: no limit)")
    observe_max_ms: int = Field(3000, ge=50, description="the observation's page walk stops after this long "
                                "(a huge page), marked as cut")
    set_of_marks: bool = Field(False, description="screenshots show each interactive element's id (for "
                               "vision models)")


# ---------------------------------------------------------------------------------------------
# The data pipeline (planact synth ...). A stage's model fields left empty use `synth.model`.

class QueriesSettings(_Strict):
    seeds: str | None = Field(None, description="JSON/JSONL of {intent, sites?, start_url?, task_id?, env_seed?}")
    suite: str | None = Field(None, description="take seeds from a suite's tasks instead, e.g. miniwob")
    tasks: list[str] = Field(default_factory=list)
    suite_seeds: str = "0-4"
    generator: str | None = None
    filter: str | None = None
    no_filter: bool = False
    seeds_per_call: int = 5  # the paper: 5 seeds in context ...
    new_per_call: int = 10  # ... -> 10 new queries
    calls: int | None = Field(None, description="generation calls; default: enough for `target`")
    target: int = 100
    dedupe_threshold: float = 0.7  # ROUGE-L F1 at or above this = near-duplicate
    temperature: float = 0.8
    include_seeds: bool = False


class TrajectoriesSettings(_Strict):
    queries: str | None = Field(None, description="default: OUT/queries.jsonl")
    suite: str = Field("auto", description="auto: a query's task_id runs in its suite, else its start_url")
    orm: Literal["env", "llm"] = "env"
    judge: str | None = None
    rollouts: int = 1
    limit: int | None = None


class PlansSettings(_Strict):
    teacher: str | None = None
    max_attempts: int = 3


class ExpandSettings(_Strict):
    model: str | None = None
    seeds_per_call: int = 5
    new_per_call: int = 10
    target: int = 10000  # the paper's count
    calls: int | None = None
    dedupe_threshold: float = 0.7
    temperature: float = 0.8


class AugmentSettings(_Strict):
    planner: str | None = Field(None, description="the planner to validate (default: models.planner)")
    judge: str | None = None
    model: str | None = Field(None, description="names failure classes, assigns points, writes new plans")
    val_fraction: float = 0.1
    target: int = 5000  # the paper's count
    dedupe_threshold: float = 0.7
    temperature: float = 0.8


class CotSettings(_Strict):
    teacher: str | None = None
    roles: list[Literal["planner", "executor", "replanner"]] = Field(
        default_factory=lambda: ["planner", "executor", "replanner"])
    limit: int | None = None


class ReplanSettings(_Strict):
    teacher: str | None = None
    max_points: int | None = Field(None, description="replanning points per trajectory (default: all)")


class ExportSettings(_Strict):
    executor_plan: Literal["grounded", "actor", "none"] = "grounded"
    plan_share: float = Field(1.0, description="share of executor examples that show the plan (the rest show "
                                               "none, so that the executor also works without a planner)")
    cot: bool = False
    out: str | None = Field(None, description="default: OUT/export")


SYNTH_STAGES = ("queries", "trajectories", "plans", "expand", "augment", "replan", "cot", "export")


class SynthSettings(_Strict):
    out: str = "runs/synth"
    model: str = BASE_MODEL
    seed: int = 0
    concurrency: int = 4
    workers: int = 1
    ray: str | None = None
    max_tokens: int = 512
    prompt_dir: str | None = None
    stages: list[Literal[SYNTH_STAGES]] = Field(default_factory=lambda: list(SYNTH_STAGES))  # type: ignore[valid-type]
    queries: QueriesSettings = Field(default_factory=QueriesSettings)
    trajectories: TrajectoriesSettings = Field(default_factory=TrajectoriesSettings)
    plans: PlansSettings = Field(default_factory=PlansSettings)
    expand: ExpandSettings = Field(default_factory=ExpandSettings)
    augment: AugmentSettings = Field(default_factory=AugmentSettings)
    cot: CotSettings = Field(default_factory=CotSettings)
    replan: ReplanSettings = Field(default_factory=ReplanSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)

    def role_model(self, value: str | None) -> str:
        return value or self.model


# ---------------------------------------------------------------------------------------------
# Training (planact train ...). Full fine-tuning defaults are the paper's (LLaMA-3.3-70B: lr 2e-5,
# cosine, warmup 0.1, batch 32, 1 epoch); LoRA uses a larger learning rate, as usual.

class TrainSettings(_Strict):
    base: str = BASE_MODEL
    data: str | None = Field(None, description="chat JSONL from `planact synth export` (messages)")
    output: str | None = None
    method: Literal["lora", "full"] = "lora"
    objective: Literal["sft", "dpo", "kto"] = Field("sft", description=(
        "sft: imitate the answers; dpo: preference pairs (prompt, chosen, rejected; TRL's DPOTrainer); kto: "
        "answers labelled desirable or undesirable (`label`; TRL's KTOTrainer): train/preference.py"))
    init_adapter: str | None = Field(None, description=(
        "a LoRA adapter to start from (the SFT one); with dpo/kto it is also the reference policy"))
    beta: float = Field(0.1, description="dpo/kto: how far the policy may move from the reference (higher: less)")
    sft_weight: float = Field(0.0, description="dpo: weight of an SFT loss on the chosen answers (RPO); 0: none")
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0
    learning_rate: float | None = Field(None, description="default: 2e-4 for LoRA, 2e-5 for full")
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.1
    batch_size: int = 32  # effective: per_device x grad_accum x devices
    per_device_batch_size: int = 4
    epochs: float = 1.0
    max_steps: int = -1
    max_length: int = 2048
    packing: bool = False
    group_by_length: bool = Field(False, description=(
        "batches of examples of similar length (shuffled in groups; transformers' LengthGroupedSampler): less "
        "padding where lengths vary (benchmarks/train_speed.py --lengths varied)"))
    gradient_checkpointing: bool = False
    eval_fraction: float = 0.1
    eval_steps: int | None = None
    save_steps: int = 50
    save_total_limit: int = 2
    logging_steps: int = 1
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: str = "all-linear"
    bf16: bool | None = Field(None, description="default: on when the hardware supports it")
    seed: int = 0
    deepspeed: str | None = Field(None, description="DeepSpeed JSON, e.g. configs/deepspeed/zero3.json")
    resume: bool = True


# ---------------------------------------------------------------------------------------------
# The self-improvement loop (planact learn): rollouts -> outcome filter -> grounded plans and
# replanning data -> SFT of the three roles -> validation -> keep only what improved.

class LearnRollouts(_Strict):
    per_task: int = Field(8, description="rollouts per task per round where the policy sometimes succeeds (the base)")
    per_seed: int = Field(2, description="rollouts of each seed (sampled: they differ)")
    temperature: float | list[float] = Field(1.0, description=(
        "sampling temperature; a list is cycled over the rollouts of a task instance (e.g. [1.0, 1.6])"))
    explore: float | list[float] = Field(0.0, description=(
        "per step, the chance that a random action the page affords (Click, Type a phrase of the task into a "
        "field, Select an option) is taken instead of the model's (agent/explore.py); a list is cycled like "
        "temperature"))
    max_steps: int = 8
    grammar: bool = True
    orm: Literal["env", "llm"] = "env"
    judge: str | None = Field(None, description="the LLM ORM's model (orm: llm); default: the teacher, else the base")
    workers: int = 1
    agent: dict[str, Any] = Field(default_factory=lambda: {"no_planner": True}, description=(
        "agent settings of the rollout policy (default: the executor alone, the paper's actor)"))


class LearnCurriculum(_Strict):
    """WebRL-style allocation of each round's rollouts from the task's record so far."""
    boost: float = Field(2.0, description="x per_task where the current policy sometimes succeeds (0 < rate < 1)")
    mastered_rate: float = Field(0.9, description="at or above this success rate a task is mastered ...")
    mastered_share: float = Field(0.5, description="... and gets this share of per_task")
    explore: int = Field(8, description="rollouts per round for a task with no success yet ...")
    explore_cap: int = Field(48, description="... until this many attempts without a success; then `trickle`")
    trickle: int = 2
    explore_rate: float | None = Field(None, ge=0.0, le=1.0, description=(
        "where the policy has never succeeded (or lost it): every rollout explores at this rate instead of "
        "rollouts.explore (per step, the chance of a random afforded action)"))


class LearnSelect(_Strict):
    per_task_cap: int = Field(24, description="successful task instances per task in a round's training set")
    max_actions: int = Field(12, description="longer successes are not used")
    min_raw_reward: float | None = Field(None, description=(
        "a success is learned from only with at least this raw reward (MiniWoB: 1.0): a partly right answer, "
        "which a suite's success rule may still count (MiniWoB's raw reward > 0), is not taught"))
    replay: bool = Field(False, description=(
        "replay each chosen success of a seeded suite without each of its actions in turn and keep only the "
        "actions the success needs (learn/prune.py)"))


class LearnTrainRole(_Strict):
    max_examples: int = 240
    epochs: float = 2.0
    min_steps: int = Field(0, description="at least this many optimizer steps (more epochs when data is scarce)")
    min_per_task: int = Field(0, description=(
        "a task with fewer examples has them repeated up to this many, so that a skill found in a few "
        "rollouts is not drowned by the tasks already solved"))
    min_per_action: int = Field(0, description=(
        "executor: an action type (Type, Select Dropdown Option, ...) answered in fewer examples has them "
        "repeated up to this many, so that a policy trained mostly on clicks still learns to type"))
    renumber: float = Field(0.0, ge=0.0, le=1.0, description=(
        "executor: when above 0, every repeated example and this share of the others get their element ids "
        "renumbered (one random order-preserving map per example), so the model learns to copy an id "
        "from the page instead of a habitual one"))
    start: Literal["base", "best"] = Field("base", description=(
        "base: the role's adapter is trained afresh from the base model every round; best: it goes on from "
        "the best round's adapter for the role (its last stage): with preference tuning for the role, SFT is "
        "skipped and the preference stages start there (iterated DPO: the pairs come from that adapter's own "
        "answers, and it is the reference policy); without, SFT continues from it"))


class LearnPrefer(_Strict):
    """Preference tuning (DPO or KTO) after SFT: what the actions after which the environment ended a
    rollout in failure say not to do (learn/prefer.py)."""
    objective: Literal["dpo", "kto"] = Field("dpo", description=(
        "dpo: pairs, a success's step (chosen) against the move that ended a failed rollout of the task at that "
        "step, moved onto the success's page by what it acted on (rejected); kto: unpaired, the failures' last "
        "actions (and plans) undesirable, SFT examples desirable"))
    roles: list[Literal["executor", "planner"]] = Field(default_factory=lambda: ["executor"], description=(
        "executor: actions, as above; planner: plans (dpo: a one-step plan of the move against the success's)"))
    per_task: int = Field(12, description="undesirable examples (dpo: pairs) per task, newest rounds first")
    max_undesirable: int = Field(160, description="undesirable examples (dpo: pairs) in all")
    desirable_ratio: float = Field(1.0, description="kto: desirable examples (from the SFT set) per undesirable one")
    explored: bool = Field(True, description="also the failures of exploration's random actions")
    failure_stage: bool = Field(True, description=(
        "dpo: the first stage on the failure pairs above; off, with policy_pairs, only the second stage runs "
        "(its set still mixes in half as many failure pairs per task)"))
    policy_pairs: bool = Field(False, description=(
        "dpo, executor: then a second stage on pairs from the policy's own answers (greedy, replayed on the "
        "successes' recorded steps) where they differ from the successes' (self-play, as SPIN)"))
    epochs: float = 1.0
    min_steps: int = 0
    settings: dict[str, Any] = Field(default_factory=lambda: {"learning_rate": 1e-4, "beta": 0.1, "sft_weight": 1.0},
                                     description="`train:` settings for this stage on top of learn.train.settings "
                                                 "(beta, learning_rate, sft_weight, ...)")


class LearnTrain(_Strict):
    roles: list[Literal["executor", "planner", "replanner"]] = Field(
        default_factory=lambda: ["executor", "planner", "replanner"])
    executor: LearnTrainRole = Field(default_factory=lambda: LearnTrainRole(max_examples=320))
    planner: LearnTrainRole = Field(default_factory=lambda: LearnTrainRole(max_examples=120))
    replanner: LearnTrainRole = Field(default_factory=lambda: LearnTrainRole(max_examples=160))
    plan_share: float = Field(0.5, description="share of executor examples that show the grounded plan")
    replan_points: int = Field(2, description="replanning examples per trajectory (at most)")
    max_steps: int | None = Field(None, description="cap on optimizer steps per role (tests)")
    prefer: LearnPrefer | None = Field(None, description=(
        "after SFT, preference tuning (DPO or KTO) on the rollouts' failures for prefer.roles (the bundle then "
        "names the last stage's adapters); off when unset"))
    mix: float | None = Field(None, gt=0.0, lt=1.0, description=(
        "when a round's validation did not rise above the best round's, its adapters averaged with the best "
        "round's (this weight for the new round's, the rest for the best's: a model soup) are validated as a "
        "second candidate, and the round is decided on the better of the two; off when unset"))
    settings: dict[str, Any] = Field(default_factory=lambda: {
        "batch_size": 8, "per_device_batch_size": 4, "learning_rate": 3e-4, "max_length": 1024, "save_steps": 10,
        "eval_fraction": 0.0, "lora_r": 8, "lora_alpha": 16}, description="`train:` settings for every role (method, lora_r, ...)")


class LearnValidate(_Strict):
    seeds: str = Field("90000-90002", description="validation seeds (>= 10000, disjoint from rollout seeds)")
    max_steps: int = 8
    workers: int = 1
    agents: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"planner": {"no_planner": False, "replan": "never"}}, description=(
            "name -> agent settings: the configurations validated each round; a round's score is its best "
            "configuration's, and it is kept when that rises"))
    min_gain: float = Field(0.0, description="a round is kept when validation success rises by more than this")
    holdout: float = Field(0.05, description=(
        "with learn.queries: the share of the intents held out (never rolled out) to validate on, scored by the ORM"))

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("agents")
    @classmethod
    def _some_agent(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not v:
            raise ValueError("at least one agent configuration to validate")
        bad = [k for k in v if not re.fullmatch(r"[A-Za-z0-9_.-]+", k)]
        if bad:
            raise ValueError(f"agent names are folder names (letters, digits, - _ .): {bad[0]!r}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _one_agent(cls, data: Any) -> Any:
        """`agent:` (one configuration, from before named ones) is the configuration named "planner"."""
        if isinstance(data, dict) and "agent" in data and "agents" not in data:
            data = {**data, "agents": {"planner": data["agent"]}}
            del data["agent"]
        return data


class LearnSettings(_Strict):
    out: str = "runs/learn"
    suite: str = "miniwob"
    tasks: list[str] = Field(default_factory=list, description="the training tasks (default: all of the suite's)")
    queries: str | None = Field(None, description=(
        "instead of suite tasks x seeds: a seed/intents file (JSON/JSONL of {intent, start_url, ...}), "
        "e.g. WebArena-Lite's training intents"))
    base: str = BASE_MODEL
    actor: dict[str, str] | None = Field(None, description=(
        "role -> model spec of the rollout policy until a round is kept (default: the base for every role), "
        "e.g. a large teacher model served by an endpoint"))
    teacher: str | None = Field(None, description=(
        "a model spec that writes grounded and replanning plans (synth plans/replan); default: the offline "
        "annotator, which writes each step from the actions and the elements they acted on"))
    rounds: int = 6
    budget_hours: float | None = Field(None, description="stop starting new rounds after this much wall time")
    plateau: int = Field(2, description="stop after this many rounds in a row that were not kept")
    seed_start: int = Field(10000, description="first rollout seed; seeds below 10000 are reserved for evaluation")
    seed: int = 0
    prompt_version: str = "v2"
    rollouts: LearnRollouts = Field(default_factory=LearnRollouts)
    curriculum: LearnCurriculum = Field(default_factory=LearnCurriculum)
    select: LearnSelect = Field(default_factory=LearnSelect)
    train: LearnTrain = Field(default_factory=LearnTrain)
    validate_: LearnValidate = Field(default_factory=LearnValidate, alias="validate")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# Benchmarks (planact eval --suite webarena-lite | webarena | webvoyager)

class WebArenaSettings(_Strict):
    sites: dict[str, str] = Field(default_factory=dict, description=(
        "site -> address, e.g. {shopping: 'http://host:7770', shopping_admin: 'http://host:7780/admin'}; "
        "the WA_* variables fill in the sites not given here"))
    accounts: dict[str, list[str]] = Field(default_factory=dict, description=(
        "site -> [user, password]; default: the benchmark's test accounts"))
    tasks_file: str | None = Field(None, description="a path or URL; default: the copy bundled with planact")
    auth_dir: str | None = Field(None, description="saved logins; default ~/.cache/planact/webarena-auth")
    auth_max_age_s: float = 3600.0
    reset_command: str | None = Field(None, description="shell command that resets the sites")
    reset: Literal["marked", "every-task", "never"] = Field(
        "marked", description="run reset_command before tasks marked require_reset, before every task, or never")
    settle_s: float = Field(3.0, description="wait after program_html opens a page (the harness sleeps 3 s)")
    scoring_options: list[str] = Field(default_factory=list, description=(
        "named departures from the pinned harness's rules (bench/webarena/rules.py OPTIONS), e.g. "
        "[url-base-slash]; none by default, so scores are the harness's"))


class WebVoyagerSettings(_Strict):
    tasks_file: str | None = Field(None, description="WebVoyager_data.jsonl (path or URL); default: bundled")
    reference_answers: str | None = Field(None, description="reference_answer.json; default: bundled")
    today: str | None = Field(None, description="ISO date that decides which tasks' dates have passed")
    skip_expired: bool = False
    page_chars: int = Field(6000, description="final-page text shown to the judge")


class BrowserGymSettings(_Strict):
    """BrowserGym environments as planact suites (`--suite browsergym/miniwob`): BrowserGym runs in a
    virtual environment of its own (it pins an older Playwright), made on first use."""
    venv: str = Field(".venv-browsergym", description="BrowserGym's virtual environment (made on first use)")
    python: str | None = Field(None, description="a Python that already has BrowserGym (instead of venv)")
    packages: list[str] = Field(default_factory=lambda: ["browsergym-core==0.14.3", "browsergym-miniwob==0.14.3"],
                                description="what the virtual environment installs (add browsergym-workarena, ...)")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="passed to gym.make for every task")
    timeout_s: float = Field(120.0, description="the most one request to BrowserGym may take")


class EvalSettings(_Strict):
    judge: str | None = Field(None, description="model spec of the judge (fuzzy_match, WebVoyager); "
                                                "default: the planner's model")
    judge_prompt_version: str = "v1"
    webarena: WebArenaSettings = Field(default_factory=WebArenaSettings)
    webvoyager: WebVoyagerSettings = Field(default_factory=WebVoyagerSettings)
    browsergym: BrowserGymSettings = Field(default_factory=BrowserGymSettings)


class PlanActConfig(_Strict):
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    browser: BrowserSettings = Field(default_factory=BrowserSettings)
    synth: SynthSettings = Field(default_factory=SynthSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    learn: LearnSettings = Field(default_factory=LearnSettings)

    @classmethod
    def load(cls, path: str | Path | None) -> "PlanActConfig":
        if path is None:
            return cls()
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"config file {p} not found")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            where = getattr(err, "problem_mark", None)
            line = f" at line {where.line + 1}" if where is not None else ""
            problem = getattr(err, "problem", None) or type(err).__name__
            raise UsageError(f"config file {p} is not valid YAML{line}: {problem}") from None
        if data is not None and not isinstance(data, dict):
            raise UsageError(f"config file {p} must hold sections (models:, agent:, browser:, ...), "
                             f"not a {type(data).__name__}")
        try:
            return cls.model_validate(data or {})
        except ValidationError as err:
            raise UsageError(f"config file {p}: {describe_validation(err)}") from None

    def with_overrides(self, **sections: dict) -> "PlanActConfig":
        """Apply CLI overrides, e.g. with_overrides(agent={"cot": True}); None values are skipped."""
        data = self.model_dump()
        for section, values in sections.items():
            target = data
            for part in section.split("."):  # "synth.queries" reaches a nested section
                target = target[part]
            target.update({k: v for k, v in values.items() if v is not None})
        try:
            return PlanActConfig.model_validate(data)
        except ValidationError as err:
            raise UsageError(f"bad option: {describe_validation(err)}") from None
