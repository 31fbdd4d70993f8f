"""Every setting is documented where an operator looks: `.env.example` (with its true default) and the
README's configuration table; and the data directory does not follow the current folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from db.settings import ConfigError, Settings, default_data_dir, load_settings
from tests.utils.db import ROOT

FIELDS = [name.upper() for name in Settings.model_fields]
EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def example_values() -> dict[str, str]:
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = EXAMPLE_LINE.match(line.strip())
        if match and match[1] in FIELDS:
            found[match[1]] = match[2].strip()
    return found


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)


def test_env_example_lists_every_setting_with_its_default(clean_env: None) -> None:
    values = example_values()
    assert sorted(set(FIELDS) - set(values)) == []
    given = {key.lower(): value for key, value in values.items() if value}
    assert Settings(_env_file=None, **given).model_dump() == Settings(_env_file=None).model_dump()  # type: ignore[call-arg]


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"(?ms)^## Configuration\n(.*?)(?=^## )", readme)
    assert table is not None
    rows = [line for line in table.group(1).splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    assert sorted(set(FIELDS) - named) == []


def test_the_default_data_directory_does_not_follow_the_current_folder(clean_env: None, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_data_dir() == ROOT / ".data"
    assert Settings(_env_file=None).data_dir == ROOT / ".data"  # type: ignore[call-arg]
    relative = Settings(_env_file=None, navigator_data_dir=Path("mine"))  # type: ignore[call-arg]
    assert relative.data_dir == tmp_path / "mine"


def test_the_openai_provider_without_its_extra_is_a_clear_error(clean_env: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import db.settings

    real = db.settings.importlib.util.find_spec
    monkeypatch.setattr(db.settings.importlib.util, "find_spec",
                        lambda name, *a: None if name == "langchain_openai" else real(name, *a))
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, llm_provider="openai")
    assert raised.value.key == "LLM_PROVIDER" and "insurance-navigator[openai]" in str(raised.value)
    assert load_settings(_env_file=None).llm_provider == "offline"
