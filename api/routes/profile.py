"""The caller's plan profile: what the navigator treats as known in every conversation."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, Profiles
from api.errors import AUTH_RESPONSES
from api.schemas import ProfileIn, ProfileOut
from db.profiles import Profile

router = APIRouter(prefix="/me", tags=["profile"], responses=AUTH_RESPONSES)


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut.model_validate(profile, from_attributes=True)


@router.get("/profile", response_model=ProfileOut)
async def get_profile(user: CurrentUser, profiles: Profiles) -> ProfileOut:
    """Every field is null until a profile is saved."""
    return profile_out(await profiles.get(user.id))


@router.put("/profile", response_model=ProfileOut)
async def put_profile(body: ProfileIn, user: CurrentUser, profiles: Profiles) -> ProfileOut:
    """Replace the profile (a field left out is cleared). The navigator uses it as known facts and never asks
    for them again; what you say in a conversation takes precedence."""
    return profile_out(await profiles.put(user.id, body.model_dump()))
