"""The web console in a real browser (Debian's chromium, headless), on the real stack: each
page read back from what the browser shows, checked against what the API answers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.console.accessibility import focus_path, low_contrast
from tests.console.conftest import Watched, screenshot, sign_in
from tests.console.seed import FUNDING, REGISTRY, Seeded, ok, password_headers
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


def _open_pairs(stack: RunningStack) -> list[dict[str, Any]]:
    headers = password_headers(stack, "amina")
    return ok(httpx.get(f"{stack.url}{REGISTRY}/duplicates", headers=headers))["items"]


def _pair_of(stack: RunningStack, given_name: str) -> dict[str, Any]:
    return next(p for p in _open_pairs(stack) if p["candidate"]["given_name"] == given_name)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_sign_in_opens_only_the_pages_of_the_persons_roles(page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/console/")
    assert page.get_by_label("Identifiant").is_visible(), "the fields have labels"
    screenshot(page, "sign-in")

    sign_in(page, stack, "amina")
    assert page.locator("#nav a").all_inner_texts() == ["Doublons"]
    assert page.locator("#user-name").inner_text() == "Connecté : amina"
    # A page the roles do not open leads to one they do.
    page.goto(f"{stack.url}/console/#/approvals")
    sign_in(page, stack, "amina")
    page.locator("h1", has_text="Revue des doublons").wait_for()
    assert page.evaluate("location.hash") == "#/duplicates"


def test_an_account_the_console_has_nothing_for_is_told_so(page, stack: RunningStack) -> None:
    sign_in(page, stack, "salma")
    assert page.locator("#nav a").count() == 0
    assert page.locator("#view h1").inner_text() == "Bienvenue"
    assert page.locator("#view .message").inner_text() == (
        "Votre compte n'a accès à aucune page de cette console."
    )


def test_a_wrong_password_is_refused_with_the_apis_reason(
    page, stack: RunningStack, watched: Watched
) -> None:
    watched.expect(400, r"/auth/token$")
    page.goto(f"{stack.url}/console/")
    page.get_by_label("Identifiant").fill("hawa")
    page.get_by_label("Mot de passe").fill("not-the-password")
    page.get_by_role("button", name="Se connecter").click()
    alert = page.locator("#sign-in-message [role=alert]")
    assert alert.inner_text() == "Unknown user or wrong password."
    assert page.locator("#nav").is_hidden()


def test_the_token_stays_in_memory_is_renewed_before_it_expires_and_revoked_at_sign_out(
    page, stack: RunningStack
) -> None:
    page.clock.install()  # the page's timers run when the test says
    with page.expect_response(lambda r: r.url.endswith("/auth/token")) as signed_in:
        sign_in(page, stack, "amina")
    first = signed_in.value.json()
    page.locator(".pair-list").wait_for()
    kept = page.evaluate(
        "() => [JSON.stringify({...localStorage}), JSON.stringify({...sessionStorage}),"
        " document.cookie]"
    )
    assert kept == ["{}", "{}", ""], "nothing is kept in the browser's storage"

    # A minute before the access token expires, the refresh token gets the next one.
    with page.expect_request(
        lambda r: (
            r.url.endswith("/auth/token") and "grant_type=refresh_token" in (r.post_data or "")
        )
    ) as renewal:
        page.clock.run_for((first["expires_in"] - 59) * 1000)
    assert f"refresh_token={first['refresh_token']}" in (renewal.value.post_data or "")
    answer = renewal.value.response()
    assert answer is not None
    renewed = answer.json()
    assert renewed["access_token"] != first["access_token"]
    with page.expect_request(lambda r: "/duplicates?" in r.url) as call:
        page.get_by_role("link", name="Doublons").click()
        page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")
    assert call.value.headers["authorization"] == f"Bearer {renewed['access_token']}"

    with page.expect_request(lambda r: r.url.endswith("/auth/revoke")) as revoke:
        page.get_by_role("button", name="Se déconnecter").click()
    revoke.value.response()
    assert page.locator("#sign-in-message").inner_text() == "Vous êtes déconnecté."
    assert page.locator("#view").is_hidden()
    again = httpx.post(
        f"{stack.url}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
    )
    assert again.status_code == 400, "signing out revoked the sign-in"


def test_a_sign_in_ended_elsewhere_asks_for_the_password_again(
    page, stack: RunningStack, watched: Watched
) -> None:
    page.clock.install()
    with page.expect_response(lambda r: r.url.endswith("/auth/token")) as signed_in:
        sign_in(page, stack, "amina")
    refresh_token = signed_in.value.json()["refresh_token"]
    # The sign-in is revoked from another device: the next renewal is refused.
    revoked = httpx.post(f"{stack.url}/auth/revoke", data={"token": refresh_token})
    assert revoked.status_code == 200
    watched.expect(400, r"/auth/token$")
    with page.expect_response(lambda r: r.url.endswith("/auth/token")) as renewal:
        page.clock.run_for(900 * 1000)
    assert renewal.value.status == 400
    page.locator("#sign-in-view").wait_for()
    assert page.locator("#sign-in-message [role=alert]").inner_text() == (
        "Votre session a pris fin : reconnectez-vous."
    )
    assert page.locator("#view").is_hidden() and page.locator("#nav").is_hidden()
    assert page.evaluate("document.activeElement.id") == "username"


def test_a_duplicate_pair_is_compared_side_by_side_and_merged(
    page, stack: RunningStack, seeded: Seeded
) -> None:
    pair = _pair_of(stack, "Fatouma")
    ranked = sorted(_open_pairs(stack), key=lambda p: -p["score"])
    sign_in(page, stack, "amina")
    buttons = page.locator(".pair-list button.pair")
    buttons.first.wait_for()
    shown = [b.get_attribute("data-pair") for b in buttons.all()]
    assert shown == [p["id"] for p in ranked], "highest score first"
    assert ranked[0]["id"] == pair["id"]

    buttons.first.click()
    page.locator("table.compare").wait_for()
    differing = page.locator("table.compare tr.differs").evaluate_all(
        "rows => rows.map(row => row.dataset.field)"
    )
    assert differing == ["grandfather_name"]
    row = page.locator("table.compare tr[data-field=grandfather_name]")
    assert row.locator("th .badge").inner_text() == "diffère"
    assert row.locator("td").all_inner_texts() == [
        pair["candidate"]["grandfather_name"],
        pair["individual"]["grandfather_name"],
    ]
    reasons = dict(
        zip(
            page.locator(".reasons dt").all_inner_texts(),
            page.locator(".reasons dd").all_inner_texts(),
            strict=True,
        )
    )
    # Each piece of evidence the API gives, by field, with how it compared (in French).
    evidence = {item["field"]: item for item in pair["reasons"]["evidence"]}
    fields = {
        "given_name": "Prénom",
        "father_name": "Nom du père",
        "birth_date": "Date de naissance",
    }
    assert len(reasons) == len(evidence)
    assert {fields[f] for f in fields if f in evidence} <= set(reasons)
    assert evidence["given_name"]["finding"] == "same"
    assert reasons["Prénom"] == "même orthographe — pour"
    screenshot(page, "duplicate-pair")

    page.get_by_label("Garder la fiche B").check()
    page.get_by_role("button", name="Fusionner").click()
    page.locator(".pair-detail .message.success").wait_for()
    assert page.locator(".pair-detail .message.success").inner_text() == (
        "Paire fusionnée : la fiche B est conservée."
    )
    screenshot(page, "duplicate-merged")
    headers = password_headers(stack, "amina")
    merged = ok(httpx.get(f"{stack.url}{REGISTRY}/duplicates/{pair['id']}", headers=headers))
    assert merged["status"] == "merged"
    assert merged["resolved_by"] == "user:amina"
    assert merged["candidate"]["status"] == "merged", "record B was kept, A merged into it"
    assert merged["individual"]["status"] == "active"
    assert pair["id"] not in [b.get_attribute("data-pair") for b in buttons.all()]


def test_a_pair_resolved_by_someone_else_meanwhile_says_so(
    page, stack: RunningStack, seeded: Seeded, watched: Watched
) -> None:
    pair = _pair_of(stack, "Hibo")
    sign_in(page, stack, "amina")
    # By keyboard: the pair's button, Enter, and the focus is on the pair shown.
    page.locator(f'button.pair[data-pair="{pair["id"]}"]').focus()
    page.keyboard.press("Enter")
    page.locator("form.decision").wait_for()
    assert page.evaluate("document.activeElement.id") == "pair-title"

    # Another data manager decides first.
    ok(
        httpx.post(
            f"{stack.url}{REGISTRY}/duplicates/{pair['id']}/resolve",
            json={"decision": "not_duplicate"},
            headers=password_headers(stack, "amina"),
        )
    )
    watched.expect(409, r"/duplicates/[^/]+/resolve$")
    page.get_by_role("button", name="Fusionner").click()
    alert = page.locator(".pair-detail .message.error")
    alert.wait_for()
    assert alert.inner_text() == (
        "Quelqu'un d'autre a déjà traité cette paire entre-temps : "
        "This pair was already resolved (not_duplicate)."
    )
    assert page.locator("form.decision").count() == 0
    resolved = page.locator(".pair-detail .resolved")
    assert resolved.get_attribute("data-status") == "not_duplicate"
    assert resolved.inner_text() == "État : pas un doublon, par amina"
    screenshot(page, "duplicate-resolved-meanwhile")


def test_a_payroll_is_refused_to_its_creator_and_approved_by_another_approver(
    page, stack: RunningStack, seeded: Seeded, watched: Watched
) -> None:
    cycle = seeded.cycle
    officer = password_headers(stack, "omar")
    summary = ok(
        httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}/summary", headers=officer)
    )
    balance_path = f"{stack.url}{FUNDING}/agreements/{cycle['agreement_id']}/balance"
    balance = ok(httpx.get(balance_path, headers=officer))

    sign_in(page, stack, "omar")
    card = page.locator(f'article.cycle[data-cycle="{cycle["id"]}"]')
    card.wait_for()
    regions = card.locator("table.regions tbody tr")
    assert [r.get_attribute("data-region") for r in regions.all()] == [
        r["region_code"] for r in summary["by_region"]
    ]
    for shown, region in zip(regions.all(), summary["by_region"], strict=True):
        households, amount = shown.locator("td").all_inner_texts()
        assert int(_digits(households)) == region["lines"]
        assert _digits(amount) == str(region["amount"]["amount_minor"])
    available = card.locator("[data-fact=available] dd").inner_text()
    assert _digits(available) == str(balance["available"]["amount_minor"])
    assert seeded.agreement["reference"] in card.locator("h3").all_inner_texts()[-1]

    watched.expect(403, r"/approve$")
    card.get_by_role("button", name="Approuver").click()
    refusal = card.locator(".outcome [role=alert]")
    refusal.wait_for()
    assert refusal.inner_text() == (
        "Approbation refusée : You created this payment cycle: another finance approver "
        "must approve it."
    )
    screenshot(page, "approval-refused-to-creator")
    assert (
        ok(httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}", headers=officer))[
            "status"
        ]
        == "draft"
    )

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, stack, "hawa")
    assert page.locator("#nav a").all_inner_texts() == ["Approbation des paiements"]
    assert card.get_by_role("button", name="Annuler le cycle").count() == 0, "nor cancels"
    card.get_by_role("button", name="Approuver").click()
    card.locator(".outcome .message.success").wait_for()
    assert card.get_attribute("data-status") == "approved"
    approved = ok(httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}", headers=officer))
    assert (approved["status"], approved["approved_by"]) == ("approved", "user:hawa")
    after = ok(httpx.get(balance_path, headers=officer))
    assert after["reserved"]["amount_minor"] == approved["reserved"]["amount_minor"] > 0
    assert card.locator("[data-fact=status] dd").inner_text() == "approuvé"
    # Every payroll on the agreement shows what it now holds, not what it held before.
    for other in page.locator("article.cycle").all():
        shown = other.locator("[data-fact=reserved] dd").inner_text()
        assert _digits(shown) == str(after["reserved"]["amount_minor"])
        available = other.locator("[data-fact=available] dd").inner_text()
        assert _digits(available) == str(after["available"]["amount_minor"])
    screenshot(page, "approval-approved")


def test_the_language_switch_changes_the_labels(page, stack: RunningStack) -> None:
    sign_in(page, stack, "amina")
    page.locator("h1", has_text="Revue des doublons").wait_for()
    assert page.evaluate("document.documentElement.lang") == "fr"

    page.get_by_role("button", name="EN").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#view h1").inner_text() == "Duplicate review"
    count = len(_open_pairs(stack))
    intro = page.locator("#view h1 + p").inner_text()
    if count == 1:
        assert intro == "1 open pair."
    elif count:
        assert intro == f"{count} open pairs, highest score first."
    assert page.locator("#nav a").all_inner_texts() == ["Duplicates"]
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_role("navigation", name="Main navigation").is_visible()
    assert page.get_by_role("button", name="EN").get_attribute("aria-pressed") == "true"
    screenshot(page, "duplicates-en")

    missing = page.evaluate(
        f"async () => (await import('{stack.url}/console/js/i18n.js')).missingKeys()"
    )
    assert missing == [], "every label exists in both languages"
    page.get_by_role("button", name="FR").click()
    assert page.locator("#view h1").inner_text() == "Revue des doublons"


def test_a_payroll_approved_by_someone_else_meanwhile_says_so(
    page, stack: RunningStack, seeded: Seeded, watched: Watched
) -> None:
    cycle = seeded.contested_cycle
    sign_in(page, stack, "hawa")
    card = page.locator(f'article.cycle[data-cycle="{cycle["id"]}"]')
    card.wait_for()
    approve = f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}/approve"
    ok(httpx.post(approve, headers=password_headers(stack, "idris")))

    watched.expect(409, r"/approve$")
    card.get_by_role("button", name="Approuver").click()
    refusal = card.locator(".outcome [role=alert]")
    refusal.wait_for()
    assert refusal.inner_text() == (
        "Approbation refusée : Only a draft whose payroll is built can be approved; this one: "
        "approved."
    )
    assert card.get_attribute("data-status") == "approved"
    assert card.locator("[data-fact=status] dd").inner_text() == "approuvé"
    assert card.get_by_role("button", name="Approuver").count() == 0


def test_an_officer_cancels_a_payroll_with_a_reason(
    page, stack: RunningStack, seeded: Seeded
) -> None:
    cycle = seeded.spare_cycle
    sign_in(page, stack, "omar")
    card = page.locator(f'article.cycle[data-cycle="{cycle["id"]}"]')
    card.get_by_role("button", name="Annuler le cycle").click()
    reason = card.get_by_label("Motif de l'annulation")
    assert page.evaluate("document.activeElement.tagName") == "TEXTAREA", "a reason is asked"
    reason.fill("Liste à refaire : période erronée")
    card.get_by_role("button", name="Annuler le cycle").click()
    card.locator(".outcome .message.success").wait_for()
    assert card.get_attribute("data-status") == "cancelled"
    officer = password_headers(stack, "omar")
    cancelled = ok(httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}", headers=officer))
    assert (cancelled["status"], cancelled["cancel_reason"]) == (
        "cancelled",
        "Liste à refaire : période erronée",
    )


def test_an_approver_refuses_a_payroll_with_a_reason(
    page, stack: RunningStack, seeded: Seeded
) -> None:
    cycle = seeded.refused_cycle
    sign_in(page, stack, "hawa")
    card = page.locator(f'article.cycle[data-cycle="{cycle["id"]}"]')
    card.get_by_label("Motif du refus").fill("Montants à vérifier avec l'ADDS")
    card.get_by_role("button", name="Refuser le cycle").click()
    card.locator(".outcome .message.success").wait_for()
    assert card.get_attribute("data-status") == "cancelled"
    officer = password_headers(stack, "omar")
    refused = ok(httpx.get(f"{stack.url}{FUNDING}/payment-cycles/{cycle['id']}", headers=officer))
    assert (refused["status"], refused["cancel_reason"]) == (
        "cancelled",
        "Montants à vérifier avec l'ADDS",
    )


def test_the_pages_read_well_by_keyboard_and_at_tablet_width(
    page, stack: RunningStack, seeded: Seeded
) -> None:
    pair = _pair_of(stack, "Deka")
    sign_in(page, stack, "amina")
    page.locator(f'button.pair[data-pair="{pair["id"]}"]').click()
    page.locator("form.decision").wait_for()
    assert low_contrast(page) == [], "every text meets WCAG AA contrast"
    path = focus_path(page)
    assert [step for step in path if not step["outline"]] == [], "focus is always visible"
    reached = [step["label"] for step in path]
    for control in ("Doublons", "EN", "Se déconnecter", "Pas un doublon", "Fusionner"):
        assert control in reached, f"{control} is reached by keyboard"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], "nothing scrolls sideways on a tablet"

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, stack, "hawa")
    page.locator(f'article.cycle[data-cycle="{seeded.untouched_cycle["id"]}"]').wait_for()
    assert low_contrast(page) == []
    page.set_viewport_size({"width": 768, "height": 1024})
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    screenshot(page, "approvals-768")


def test_the_reasons_of_a_score_read_in_the_page_s_language(page, stack: RunningStack) -> None:
    """Each piece of evidence as a field and how it compared, for or against; a finding the
    dictionaries do not know yet is shown as the API names it."""
    page.goto(f"{stack.url}/console/")
    entries = page.evaluate(
        f"""async () => {{
            const {{ reasonEntries }} = await import('{stack.url}/console/js/duplicates.js');
            return [
                reasonEntries({{ log_odds: 3, ruled_out: false, summary: "", evidence: [
                    {{ field: "birth_date", finding: "year_off", weight: 1.5 }},
                    {{ field: "identifiers", finding: "shared", weight: 2, types: ["phone"] }},
                    {{ field: "household", finding: "mother_differs", weight: -3 }},
                    {{ field: "locality", finding: "new_finding", weight: 0 }},
                ] }}),
                reasonEntries(undefined),
            ];
        }}"""
    )
    assert entries == [
        [
            ["Date de naissance", "un an d'écart — pour"],
            ["Identifiants", "partagés (phone) — pour"],
            ["Ménage", "la mère diffère — contre"],
            ["Lieu", "new finding"],
        ],
        [],
    ]
