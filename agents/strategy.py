"""The service access strategist: an ordered plan from the intent, the facts and the knowledge."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel

from agents.models import invoke_structured
from agents.navigator import latest_question
from agents.prompts import STRATEGY_PROMPT
from agents.schemas import StrategyPlan
from agents.state import STRATEGY, NavigatorState


def make_strategy_node(model: BaseChatModel) -> Any:
    async def strategy(state: NavigatorState) -> dict[str, Any]:
        found = state.get("navigator") or {}
        payload = {
            "question": found.get("text") or latest_question(state.get("messages", [])),
            "intent": state.get("intent") or "other",
            "facts": found.get("facts") or {},
            "topics": found.get("topics") or [],
            "computed": found.get("computed") or [],
            "today": found.get("today"),
            "documents": found.get("documents") or [],
        }
        plan = await invoke_structured(model, StrategyPlan, STRATEGY_PROMPT, json.dumps(payload))
        return {"current_step": STRATEGY, STRATEGY: plan.model_dump()}

    return strategy
