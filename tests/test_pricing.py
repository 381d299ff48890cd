"""The price table: the cost formula, model-id matching, unknown models, config extensions, long context."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from autodev.config.settings import load_settings
from autodev.core.errors import UserError
from autodev.models import Usage
from autodev.models.pricing import Pricer, PriceTable, load_price_table

M = 1_000_000


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_price_table()


def test_the_bundled_table_is_dated_and_complete(table: PriceTable) -> None:
    raw = tomllib.loads((resources.files("autodev.models") / "prices.toml").read_text(encoding="utf-8"))
    assert table.read_on == raw["read_on"] and table.read_on[:2] == "20"
    for name in ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "gpt-4o", "gpt-5", "gpt-5-nano"):
        price = table.lookup(name)
        assert price is not None and price.context_window, name
    for name in ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"):  # the default tiers are all priced
        assert table.prices[name].cache_write is not None and table.prices[name].cache_read is not None


@pytest.mark.parametrize(
    ("usage", "dollars"),
    [
        (Usage(input_tokens=M), 2.0),
        (Usage(output_tokens=M), 10.0),
        (Usage(cache_write_tokens=M), 2.5),
        (Usage(cache_read_tokens=M), 0.1),
        (Usage(input_tokens=1000, output_tokens=500, cache_read_tokens=20_000, cache_write_tokens=4000), 0.019),
    ],
)
def test_cost_formula_per_field(table: PriceTable, usage: Usage, dollars: float) -> None:
    # claude-sonnet-5-5: input 2, output 10, cache write 2.50, cache read 0.10 USD per million tokens
    assert table.cost("claude-sonnet-5-5", usage) == pytest.approx(dollars)


def test_zero_usage_costs_zero(table: PriceTable) -> None:
    assert table.cost("claude-opus-5-5", Usage()) == 0.0


@pytest.mark.parametrize(
    ("model_id", "priced_as"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-haiku-4-5-latest", "claude-haiku-4-5"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-5-mini", "gpt-5-mini"),
    ],
)
def test_dated_snapshot_ids_match_their_model(table: PriceTable, model_id: str, priced_as: str) -> None:
    assert table.lookup(model_id) == table.prices[priced_as]


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-5-codex",
        "gpt-5-pro",
        "gpt-4o-audio-preview",
        "claude-sonnet-4-5-fast",
        "claude-sonnet",
        "gpt-5-20",
        "llama3",
    ],
)
def test_other_variants_do_not_match_a_prefix(table: PriceTable, model_id: str) -> None:
    assert table.lookup(model_id) is None
    assert table.cost(model_id, Usage(input_tokens=M)) is None
    assert table.context_window(model_id) is None


def test_unknown_model_costs_none_with_exactly_one_warning_per_model(table: PriceTable) -> None:
    warnings: list[str] = []
    pricer = Pricer(table, warn=warnings.append)
    for _ in range(3):
        assert pricer.cost("mystery-model", Usage(input_tokens=100)) is None
        assert pricer.cost("other-model", Usage(output_tokens=5)) is None
    assert pricer.cost("claude-haiku-5-5", Usage(input_tokens=10_000)) == pytest.approx(0.001)
    assert len(warnings) == 2
    assert "'mystery-model'" in warnings[0] and "'other-model'" in warnings[1]
    assert "null" in warnings[0] and '[prices."mystery-model"]' in warnings[0]


def test_config_prices_extend_and_override_the_table(make_repo: Any) -> None:
    config = (
        '[prices."my-model"]\ninput = 1.5\noutput = 6\ncache_read = 0.15\ncontext_window = 32000\n'
        '[prices."gpt-4o"]\ninput = 2.0\noutput = 8.0\n'
    )
    repo: Path = make_repo({"README.md": "x\n", ".autodev/config.toml": config})
    settings = load_settings(repo, env={})
    table = load_price_table(settings.prices)

    assert table.cost("my-model", Usage(input_tokens=M, output_tokens=M, cache_read_tokens=M)) == pytest.approx(7.65)
    assert table.context_window("my-model") == 32000
    assert table.cost("my-model-20260101", Usage(input_tokens=M)) == pytest.approx(1.5)  # snapshots too
    assert table.cost("gpt-4o", Usage(input_tokens=M, cache_read_tokens=M)) == pytest.approx(4.0)  # replaced entry
    assert table.lookup("claude-sonnet-5-5") == load_price_table().lookup("claude-sonnet-5-5")  # the rest unchanged


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"input": -1.0, "output": 1.0}, "input"),
        ({"input": 1.0}, "output"),
        ({"input": 1.0, "output": 1.0, "cache_wirte": 1.0}, "cache_wirte"),
        ({"input": 1.0, "output": 1.0, "context_window": 0}, "context_window"),
        ({"input": 1.0, "output": 1.0, "long_context_multiplier": 0.5}, "long_context_multiplier"),
    ],
)
def test_an_invalid_price_entry_is_a_user_error(entry: dict[str, float], words: str) -> None:
    with pytest.raises(UserError, match="invalid price entry") as excinfo:
        load_price_table({"broken-model": entry})
    assert words in str(excinfo.value) and "config [prices]" in str(excinfo.value)
    assert excinfo.value.exit_code == 2


def test_an_invalid_price_in_the_config_file_is_a_user_error(make_repo: Any) -> None:
    repo: Path = make_repo({"README.md": "x\n", ".autodev/config.toml": '[prices."m"]\ninput = "cheap"\n'})
    with pytest.raises(UserError, match="prices"):
        load_price_table(load_settings(repo, env={}).prices)


def test_long_context_multiplier(table: PriceTable) -> None:
    price = table.prices["claude-haiku-5-5"]
    assert price.long_context_threshold == 100_000 and price.long_context_multiplier == 5.0
    at_threshold = Usage(input_tokens=100_000, output_tokens=1000)
    assert table.cost("claude-haiku-5-5", at_threshold) == pytest.approx((100_000 * 0.10 + 1000 * 0.50) / M)
    over = Usage(input_tokens=100_001, output_tokens=1000)
    assert table.cost("claude-haiku-5-5", over) == pytest.approx(5 * (100_001 * 0.10 + 1000 * 0.50) / M)
    # the threshold counts the whole prompt, cached tokens included
    cached = Usage(input_tokens=1, cache_read_tokens=100_000)
    assert table.cost("claude-haiku-5-5", cached) == pytest.approx(5 * (1 * 0.10 + 100_000 * 0.01) / M)
    # models without a threshold never get the multiplier
    assert table.cost("claude-sonnet-5-5", Usage(input_tokens=500_000)) == pytest.approx(1.0)


def test_openai_style_entries_without_cache_write(table: PriceTable) -> None:
    price = table.prices["gpt-4o"]
    assert price.cache_write is None and price.cache_read == 1.25
    usage = Usage(input_tokens=600, output_tokens=100, cache_read_tokens=400)  # prompt 1000, 400 of it cached
    assert table.cost("gpt-4o", usage) == pytest.approx((600 * 2.5 + 100 * 10 + 400 * 1.25) / M)
    # a cache write, should one be reported, is billed as plain input, not guessed at a premium
    assert table.cost("gpt-4o", Usage(cache_write_tokens=M)) == pytest.approx(2.5)


def test_an_entry_without_cache_prices_bills_cached_tokens_as_input() -> None:
    table = load_price_table({"plain": {"input": 3.0, "output": 4.0}})
    assert table.cost("plain", Usage(cache_read_tokens=M, cache_write_tokens=M)) == pytest.approx(6.0)
