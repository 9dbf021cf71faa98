"""Settings from the environment (DUBAN_ prefix) or `.env`; defaults give the embedded runtime."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "duban-development-secret-change-me"  # noqa: S105  (refused outside development)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every knob duban reads; one instance per process, see `get_settings()`."""

    model_config = SettingsConfigDict(env_prefix="DUBAN_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    # The owner's URL (PostgreSQL: the role that owns the tables) for `duban db upgrade`; the application
    # connects with database_url as a role that owns nothing. Defaults to database_url (one role, SQLite).
    migration_database_url: str = ""
    broker_url: str = ""
    result_backend: str | None = None
    mail_backend: Literal["file", "smtp"] = "file"
    mail_dir: Path | None = None
    mail_from: str = "duban@localhost"
    # The 督办单 PDF on a 督办单 notice mail: about 0.2 s of worker CPU and 220 KB per mail (WeasyPrint, CJK
    # fonts embedded); an office that sends the paper through its OA system turns it off.
    mail_notice_pdf: bool = True
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""
    secret_key: str = DEVELOPMENT_SECRET
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    now: str | None = None
    timezone: str = "Asia/Shanghai"
    max_request_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_plan_measures: int = Field(default=10_000, ge=1)  # real plans hold hundreds; more is not a plan
    office_hours_start: int = Field(default=8, ge=0, le=23)
    office_hours_end: int = Field(default=18, ge=1, le=24)
    sweep_interval_seconds: int = Field(default=300, ge=10)
    # Liveness of the scheduler: beat sends a heartbeat job to each queue every `heartbeat_seconds`; /healthz
    # answers 503 when none came through for `heartbeat_stale_seconds`, or when no sweep completed for
    # `sweep_stale_intervals` sweep intervals. `expect_worker` false (the default only under DUBAN_ENV=test)
    # reports both without failing on them: a host whose database no worker serves.
    heartbeat_seconds: float = Field(default=10.0, ge=0.5, le=300)
    heartbeat_stale_seconds: float = Field(default=60.0, ge=2)
    sweep_stale_intervals: float = Field(default=2.5, ge=1.5)
    expect_worker: bool | None = None
    # Event notices are sent to the broker as one job per this many seconds (0: one job per commit).
    job_batch_seconds: float = Field(default=0.05, ge=0, le=5)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # 佐证材料 (evidence files): where the embedded store keeps them, and the limits per file and per task.
    files_dir: Path | None = None
    evidence_max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    evidence_max_task_bytes: int = Field(default=500 * 1024 * 1024, ge=1024)
    evidence_orphan_grace_hours: float = Field(default=24, ge=0)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        """Derive embedded defaults from `var_dir` and refuse development secrets in production."""
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'duban.sqlite3'}"
        if not self.migration_database_url:
            self.migration_database_url = self.database_url
        if not self.broker_url:
            self.broker_url = "filesystem://"
        if self.mail_dir is None:
            self.mail_dir = self.var_dir / "mail"
        if self.files_dir is None:
            self.files_dir = self.var_dir / "files"
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        if self.env == "production":
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "生产环境必须设置 DUBAN_SECRET_KEY（至少 32 个字符）/ "
                    "DUBAN_SECRET_KEY must be set (32+ characters) outside development"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("生产环境不能使用 SQLite / production needs PostgreSQL (DUBAN_DATABASE_URL)")
        if self.expect_worker is None:
            self.expect_worker = self.env != "test"
        if self.heartbeat_stale_seconds < 2 * self.heartbeat_seconds:
            raise ValueError(
                "心跳过期时间须至少为心跳间隔的两倍 / "
                "DUBAN_HEARTBEAT_STALE_SECONDS must be at least twice DUBAN_HEARTBEAT_SECONDS"
            )
        if self.office_hours_end <= self.office_hours_start:
            raise ValueError("办公时间结束须晚于开始 / office_hours_end must be after office_hours_start")
        return self

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def sweep_stale_seconds(self) -> float:
        """How long without a completed sweep before /healthz calls the sweeps stale."""
        return self.sweep_stale_intervals * self.sweep_interval_seconds

    @property
    def broker_dir(self) -> Path:
        """Folder of the filesystem broker (embedded runtime)."""
        return self.var_dir / "broker"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cleared by tests through `get_settings.cache_clear()`)."""
    return Settings()
