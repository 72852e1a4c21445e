"""What one `summarizer serve` process is configured with.

pydantic-settings reads `SUMMARIZER_*` environment variables (`SUMMARIZER_API_TOKEN`
above all: a secret belongs in the environment, not in `ps` output); the CLI's
options override them. The checks that keep a server from being opened by mistake
live here, so `create_app` refuses a bad configuration as surely as the CLI does.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """The service's settings; field `x` is also read from `SUMMARIZER_X`."""

    model_config = SettingsConfigDict(env_prefix="SUMMARIZER_", extra="ignore")

    db: Path = Field(Path("results.db"), description="Results database shared with the CLI")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    backend: str = Field("local", description="local | openai | rules, as `summarizer run --backend`")
    jobs: int = Field(1, ge=1, le=64, description="Documents processed at once")
    queue: int = Field(1000, ge=1, description="Queued documents past which POST answers 429")
    max_bytes: int = Field(20 * MB, ge=1, description="Largest request body accepted (413 past it)")
    batch: int = Field(32, ge=1, description="Most documents one worker run takes from the queue")
    stop_grace: float = Field(10.0, ge=0, description="Seconds a stopping server lets the current run finish "
                              "before it cancels it and requeues its documents")
    worker: Literal["auto", "process", "thread"] = Field(
        "auto", description="Where the pipeline runs: a process of its own (its own interpreter lock, beside "
        "HTTP), a thread of the server, or auto: a process for a backend that is pure CPU (rules), a thread "
        "for the model backends (their time is spent waiting on the model)")
    api_token: SecretStr | None = Field(None, description="Bearer token every /v1 request must carry")
    uploads: Path | None = Field(None, description="Where submitted files are kept (default: <db>.uploads)")
    # Backend options, passed as `summarizer run` passes them.
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    mode: str | None = None
    model_path: str | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    scope: str | None = None

    @model_validator(mode="after")
    def _loopback_without_token(self) -> Settings:
        token = self.api_token.get_secret_value() if self.api_token else ""
        if not token and not is_loopback(self.host):
            raise ValueError(f"refusing to listen on {self.host} without SUMMARIZER_API_TOKEN: "
                             "set a token, or listen on 127.0.0.1")
        return self

    @property
    def token(self) -> str:
        return self.api_token.get_secret_value() if self.api_token else ""

    @property
    def upload_dir(self) -> Path:
        return self.uploads or self.db.with_name(self.db.name + ".uploads")

    def backend_options(self) -> dict[str, object]:
        """Keyword arguments for `get_backend`, as the CLI's `run` gives them."""
        return {"db_path": str(self.db), "base_url": self.base_url, "model": self.model,
                "api_key_env": self.api_key_env, "mode": self.mode, "model_path": self.model_path,
                "jobs": self.jobs, "timeout": self.timeout, "max_attempts": self.max_attempts,
                "scope": self.scope}
