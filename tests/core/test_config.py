"""Settings: embedded defaults, production guards."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from duban.core.config import Settings


def test_defaults_are_the_embedded_runtime(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'duban.sqlite3'}"
    assert settings.broker_url == "filesystem://"
    assert settings.mail_backend == "file"
    assert settings.mail_dir == tmp_path / "mail"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.is_sqlite


def test_environment_variables_use_the_duban_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DUBAN_PORT", "9123")
    monkeypatch.setenv("DUBAN_MAIL_BACKEND", "smtp")
    settings = Settings(var_dir=tmp_path)
    assert settings.port == 9123
    assert settings.mail_backend == "smtp"
    assert settings.base_url == "http://127.0.0.1:9123"


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DUBAN_SECRET_KEY"):
        Settings(var_dir=tmp_path, env="production", database_url="postgresql://x@localhost/duban")


def test_production_refuses_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(var_dir=tmp_path, env="production", secret_key="s" * 40)


def test_production_with_real_settings_is_accepted(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path, env="production", secret_key="s" * 40, database_url="postgresql://x@db/duban"
    )
    assert not settings.is_sqlite


def test_office_hours_must_be_ordered(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="office_hours_end"):
        Settings(var_dir=tmp_path, office_hours_start=18, office_hours_end=9)
