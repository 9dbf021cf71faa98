"""docker-compose.yml: every service is there, healthy-checked, runs a command the project has, and connects to
the database as the right role."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url
from typer.main import get_command

from duban.api.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, dict[str, object]]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, dict[str, object]] = data["services"]
    return services


WORKERS = ("worker-sweeps", "worker-delivery")


def test_every_service_is_declared() -> None:
    services = _compose()
    assert {"postgres", "redis", "api", "proxy", *WORKERS, "beat", "mailpit", "flower"} <= set(services)
    for name in ("postgres", "redis", "api", "proxy", *WORKERS, "mailpit"):
        assert "healthcheck" in services[name], name


def test_api_worker_and_beat_share_one_image() -> None:
    services = _compose()
    images = {services[name].get("image") for name in ("api", *WORKERS, "beat", "flower")}
    assert images == {"duban:latest"}


def _queues(service: dict[str, object]) -> str:
    command = service["command"]
    assert isinstance(command, list)
    return str(command[command.index("-Q") + 1])


def test_scale_out_shape_proxy_in_front_queues_split_one_beat() -> None:
    services = _compose()
    # api replicas publish no host port of their own (they would collide); the proxy does.
    assert "ports" not in services["api"]
    assert services["proxy"]["ports"] == ["8000:80"]
    assert _queues(services["worker-sweeps"]) == "sweeps"
    assert _queues(services["worker-delivery"]) == "delivery"
    beats = [name for name, s in services.items() if "beat" in list(s.get("command") or [])]  # type: ignore[call-overload]
    assert beats == ["beat"]
    for name in WORKERS:
        environment = services[name]["environment"]
        assert isinstance(environment, dict)
        assert environment["DUBAN_METRICS_PORT"] and environment["PROMETHEUS_MULTIPROC_DIR"]
        assert environment["DUBAN_LOG_FORMAT"] == "json"


def test_the_mounted_deploy_files_exist_and_name_the_services() -> None:
    services = _compose()
    for service in services.values():
        for volume in service.get("volumes") or []:  # type: ignore[attr-defined]
            source = str(volume).split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), source
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api:8000 resolve" in nginx
    assert "proxy_set_header X-Request-ID" in nginx
    assert "location = /metrics" in nginx
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    names = {n for job in prometheus["scrape_configs"] for sd in job["dns_sd_configs"] for n in sd["names"]}
    assert names == {"api", *WORKERS} and names <= set(services)


def test_every_command_exists_in_the_project() -> None:
    cli = get_command(app)
    for name, service in _compose().items():
        command = service.get("command")
        if not isinstance(command, list) or name in ("redis",):
            continue
        if command[0] == "duban":
            group = cli
            for word in command[1:]:
                if word.startswith("-"):
                    break
                commands = getattr(group, "commands", None)
                if commands is None:
                    break
                assert word in commands, f"{name}: duban has no command {word}"
                group = commands[word]
            params = {
                opt for p in group.params for opt in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])
            }
            for word in command[1:]:
                if word.startswith("--"):
                    assert word.split("=")[0] in params, f"{name}: {word} is not an option"
        elif command[0] == "celery":
            module, _, attribute = command[2].partition(":")
            assert hasattr(importlib.import_module(module), attribute), name
            assert command[3] in {"worker", "beat", "flower"}


def test_env_example_names_only_known_settings() -> None:
    from duban.core.config import Settings

    fields = {name.upper() for name in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("DUBAN_"):
            assert line.split("=")[0].removeprefix("DUBAN_") in fields, line


def test_migrate_is_the_owner_and_everything_else_the_application_role() -> None:
    """`migrate` migrates as the owner and, by `duban db upgrade`, sets up the role the rest connects as."""
    from duban.migrations.roles import app_role_in

    services = _compose()
    postgres = services["postgres"]["environment"]
    assert isinstance(postgres, dict)

    def environment(name: str) -> dict[str, str]:
        value = services[name]["environment"]
        assert isinstance(value, dict)
        return value

    migrate = environment("migrate")
    owner_url = migrate["DUBAN_MIGRATION_DATABASE_URL"]
    owner = make_url(owner_url)
    assert (owner.username, owner.password, owner.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert services["migrate"]["command"] == ["duban", "db", "upgrade"]
    app_url = migrate["DUBAN_DATABASE_URL"]
    role = app_role_in(app_url, owner_url)
    assert role is not None and role[0] == "duban_app" and role[1]  # created with this password
    for name, service in services.items():
        if service.get("image") != "duban:latest" or name == "migrate":
            continue
        assert environment(name)["DUBAN_DATABASE_URL"] == app_url, name
        assert "DUBAN_MIGRATION_DATABASE_URL" not in environment(name), name
