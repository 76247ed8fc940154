"""The Django admin driven as a staff member drives it: log in, open a user's password form,
submit it. Used to prove that a password changed in the admin reaches every copy."""

from __future__ import annotations

import re

import httpx

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class AdminError(AssertionError):
    """The admin answered something a staff member would not expect."""


def _csrf(page: httpx.Response) -> str:
    found = _CSRF_FIELD.search(page.text)
    if page.status_code != 200 or not found:
        raise AdminError(f"{page.request.url}: {page.status_code}, no form: {page.text[:300]}")
    return found.group(1)


class AdminSession:
    def __init__(self, base_url: str, *, app_label: str) -> None:
        self.base_url = base_url
        self.app_label = app_label
        self.client = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)

    def __enter__(self) -> AdminSession:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def _post_form(self, path: str, data: dict) -> httpx.Response:
        token = _csrf(self.client.get(path))
        return self.client.post(
            path,
            data={"csrfmiddlewaretoken": token, **data},
            headers={"Referer": f"{self.base_url}{path}"},
        )

    def log_in(self, *, email: str, password: str) -> None:
        answer = self._post_form(
            "/admin/login/?next=/admin/", {"username": email, "password": password}
        )
        if answer.status_code != 302:
            raise AdminError(f"admin login refused: {answer.status_code} {answer.text[:300]}")

    def change_password(self, *, user_id: int, password: str) -> str:
        """Submits the password form; returns the admin's message on the page it leads to."""
        path = f"/admin/{self.app_label}/user/{user_id}/password/"
        answer = self._post_form(
            path, {"usable_password": "true", "password1": password, "password2": password}
        )
        if answer.status_code != 302:
            raise AdminError(f"password form refused: {answer.status_code} {answer.text[-800:]}")
        page = self.client.get(answer.headers["location"])
        messages = re.findall(r'<li class="(?:success|info|error|warning)">(.*?)</li>', page.text)
        return " ".join(messages)
