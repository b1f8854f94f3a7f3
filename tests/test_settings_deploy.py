"""Production settings: `check --deploy` is clean with the documented variables; no secret key, no start."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables that would change the outcome if they leaked in from the developer's or CI's environment.
_CONTROLLED = (
    # Browser tests set this for Playwright in the test process; a deployment never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "PRODUCTION",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)

PRODUCTION_ENV = {
    "PRODUCTION": "true",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "shop.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _dotenv_defines(name: str) -> bool:
    dotenv = BASE_DIR / ".env"
    if not dotenv.exists():
        return False
    return any(line.strip().startswith(f"{name}=") for line in dotenv.read_text().splitlines())


def _run(args, **extra_env):
    env = {k: v for k, v in os.environ.items() if k not in _CONTROLLED}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["ENV_FILE"] = os.devnull  # a developer's .env must not decide the outcome
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    secret_key = secrets.token_urlsafe(45)  # 60 characters
    assert len(secret_key) == 60

    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secret_key,
        FIELD_ENCRYPTION_KEYS="Kx2b3V3XUoFtW3q4YtWm0vN2e2k3c9yO8c1mZl7p6aE=",
        **PRODUCTION_ENV,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert "System check identified no issues" in output, output


def test_production_without_secret_key_refuses_to_load():
    result = _run(["-c", "import django; django.setup()"], **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_without_an_encryption_key_refuses_to_load():
    result = _run(["-c", "import django; django.setup()"], SECRET_KEY="x" * 60, **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr
