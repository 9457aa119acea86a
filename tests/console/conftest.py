"""The console in a real browser: Debian's headless chromium driven by Playwright, against
the real stack (`inds up`: embedded PostgreSQL, the three services, the gateway) seeded
through the public API. One stack and one browser for the package of browser tests (closed
with it: Playwright's synchronous API runs an event loop of its own while a browser is
open, and the async tests after it need theirs); each test gets a fresh browser context
(no token carried from one test to the next).

Every page a test opens is watched: each request it makes (none may leave the gateway's
origin), what the browser logs as an error (none allowed) and every answer of 400 or more
(each must be one the test said it expects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.console.seed import PASSWORD, Seeded, seed
from tests.support.stack import RunningStack, running_stack

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "console"
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            "the console's browser tests need Debian's chromium at /usr/bin/chromium "
            "(apt-get install -y chromium; .ci/run installs it)"
        )
    pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra: make install")
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def stack(chromium: Path) -> Iterator[RunningStack]:
    """An empty stack of the console's own (not the suite's demo stack): the dashboard's
    figures are the seeded ones and nothing else."""
    with running_stack(demo=False) as running:
        yield running


@pytest.fixture(scope="package")
def seeded(stack: RunningStack) -> Seeded:
    return seed(stack)


@dataclass
class Watched:
    """What a page did: every request's URL, the browser's errors, the answers >= 400."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)

    def expect(self, status: int, path_pattern: str) -> None:
        """An answer the test provokes on purpose (a refusal the page must show)."""
        self.expected.append((status, path_pattern))

    def unexpected_failures(self) -> list[tuple[int, str]]:
        return [
            (status, url)
            for status, url in self.failures
            if not any(s == status and re.search(p, url) for s, p in self.expected)
        ]


# Chromium logs each answer >= 400 to a fetch as a console error; those are checked as
# answers (expected or not) rather than as console errors.
_NETWORK_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of")


@pytest.fixture
def watched(stack: RunningStack) -> Watched:
    return Watched(origin=stack.url)


@pytest.fixture
def page(browser, stack: RunningStack, seeded: Seeded, watched: Watched) -> Iterator[object]:
    context = browser.new_context(viewport=TABLET, locale="fr-FR")
    opened = context.new_page()
    opened.on("request", lambda request: watched.requests.append(request.url))
    opened.on(
        "console",
        lambda msg: (
            watched.errors.append(msg.text)
            if msg.type == "error" and not _NETWORK_STATUS.match(msg.text)
            else None
        ),
    )
    opened.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    opened.on(
        "response",
        lambda response: (
            watched.failures.append((response.status, response.url))
            if response.status >= 400
            else None
        ),
    )
    yield opened
    context.close()
    assert watched.requests, "the page made no request at all"
    outside = [url for url in watched.requests if not url.startswith(watched.origin + "/")]
    assert not outside, f"requests left the gateway's origin: {outside}"
    assert not watched.errors, f"the browser logged errors: {watched.errors}"
    assert not watched.unexpected_failures(), watched.unexpected_failures()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, stack: RunningStack, username: str, password: str = PASSWORD) -> None:
    """Open the console and sign in with the keyboard, as a person would."""
    page.goto(f"{stack.url}/console/")
    page.locator("#username").fill(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.locator("#user-name").wait_for()
