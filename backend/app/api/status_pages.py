"""/api/v1/status-pages: admins choose what each public status page shows."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.core.errors import ADMIN, AUTH, Conflict, InvalidInput, NotFound, responses
from app.models import StatusPage
from app.schemas.status import LogoFetch, StatusPageCreate, StatusPageOut, StatusPageUpdate
from app.services.status import logo as logos
from app.services.status import pages as svc

router = APIRouter(prefix="/status-pages", tags=["status-pages"])


@router.get(
    "",
    response_model=list[StatusPageOut],
    responses=responses(*AUTH),
    summary="Status pages, by slug",
)
async def list_status_pages(user: CurrentUser, session: SessionDep) -> list[StatusPage]:
    return await svc.list_pages(session)


@router.post(
    "",
    response_model=StatusPageOut,
    status_code=201,
    responses=responses(*ADMIN, InvalidInput, Conflict),
    summary="Create a status page (unpublished unless `published` is true)",
)
async def create_status_page(
    body: StatusPageCreate, admin: AdminUser, session: SessionDep
) -> StatusPage:
    return await svc.create_page(session, body.model_dump(), datetime.now(UTC))


@router.get(
    "/{page_id}",
    response_model=StatusPageOut,
    responses=responses(*AUTH, NotFound),
    summary="One status page as configured",
)
async def get_status_page(page_id: int, user: CurrentUser, session: SessionDep) -> StatusPage:
    return await svc.get_page(session, page_id)


@router.patch(
    "/{page_id}",
    response_model=StatusPageOut,
    responses=responses(*ADMIN, NotFound, InvalidInput, Conflict),
    summary="Change any of a status page's fields; lists are replaced whole",
)
async def update_status_page(
    page_id: int, body: StatusPageUpdate, admin: AdminUser, session: SessionDep
) -> StatusPage:
    page = await svc.get_page(session, page_id)
    data = body.model_dump()  # whole: nested items keep their defaults
    changes = {k: data[k] for k in body.model_fields_set if data[k] is not None}
    return await svc.update_page(session, page, changes, datetime.now(UTC))


@router.delete(
    "/{page_id}",
    status_code=204,
    responses=responses(*ADMIN, NotFound),
    summary="Delete a status page; its public URL and badges stop answering",
)
async def delete_status_page(page_id: int, admin: AdminUser, session: SessionDep) -> None:
    await svc.delete_page(session, await svc.get_page(session, page_id))


LOGO_BODY = {
    "requestBody": {
        "required": True,
        "description": "The image file itself: PNG, WebP or SVG, at most 256 KB.",
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}}
            for t in ("image/png", "image/webp", "image/svg+xml")
        },
    }
}


@router.put(
    "/{page_id}/logo",
    response_model=StatusPageOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    openapi_extra=LOGO_BODY,
    summary="Upload the page's logo (the raw image as the body); an SVG is stored sanitised",
)
async def upload_status_page_logo(
    page_id: int, request: Request, admin: AdminUser, session: SessionDep
) -> StatusPage:
    page = await svc.get_page(session, page_id)
    body = bytearray()
    async for chunk in request.stream():  # stop reading once it is too big to keep
        body += chunk
        if len(body) > logos.MAX_BYTES:
            break
    logo = logos.check(bytes(body), request.headers.get("content-type"))
    return await svc.set_logo(session, page, logo)


@router.post(
    "/{page_id}/logo/fetch",
    response_model=StatusPageOut,
    responses=responses(*ADMIN, NotFound, InvalidInput),
    summary="Fetch the page's logo from a URL once (through the checks' egress policy)",
)
async def fetch_status_page_logo(
    page_id: int, body: LogoFetch, admin: AdminUser, session: SessionDep
) -> StatusPage:
    page = await svc.get_page(session, page_id)
    logo = await logos.fetch(body.url)
    return await svc.set_logo(session, page, logo)


@router.delete(
    "/{page_id}/logo",
    response_model=StatusPageOut,
    responses=responses(*ADMIN, NotFound),
    summary="Remove the page's logo",
)
async def delete_status_page_logo(
    page_id: int, admin: AdminUser, session: SessionDep
) -> StatusPage:
    page = await svc.get_page(session, page_id)
    return await svc.set_logo(session, page, None)
