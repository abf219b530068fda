"""/api/v1/users: user management for admins."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AdminUser, SessionDep
from app.core.errors import ADMIN, Conflict, InvalidInput, NotFound, responses
from app.models import User
from app.schemas.auth import UserCreate, UserOut, UserUpdate
from app.services.auth import users

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=list[UserOut], responses=responses(*ADMIN), summary="List users")
async def list_users(admin: AdminUser, session: SessionDep) -> list[User]:
    return await users.list_users(session)


@router.post(
    "",
    response_model=UserOut,
    status_code=201,
    responses=responses(*ADMIN, Conflict),
    summary="Create a user",
)
async def create_user(body: UserCreate, admin: AdminUser, session: SessionDep) -> User:
    return await users.create_user(session, body.username, body.password, body.role)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=responses(*ADMIN, NotFound, Conflict, InvalidInput),
    summary="Change a user's role, disable or enable them, or reset their password",
)
async def update_user(
    user_id: int, body: UserUpdate, admin: AdminUser, session: SessionDep
) -> User:
    return await users.update_user(
        session, admin, user_id, role=body.role, disabled=body.disabled, password=body.password
    )


@router.delete(
    "/{user_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound, Conflict),
    summary="Delete a user and their API tokens",
)
async def delete_user(user_id: int, admin: AdminUser, session: SessionDep) -> None:
    await users.delete_user(session, admin, user_id)
