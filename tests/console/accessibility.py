"""What the browser computes of a page, for its accessibility checks: the contrast of every
piece of text against the background it is drawn on (WCAG 2.x relative luminance), and the
outline each focusable element shows when the keyboard reaches it."""

from __future__ import annotations

# Each visible element with text of its own: its text, its colour and the first opaque
# background behind it, walking up the tree; the ratio, as WCAG computes it.
CONTRASTS = """
() => {
  const rgb = (value) => value.match(/[\\d.]+/g).map(Number);
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = rgb(getComputedStyle(node).backgroundColor);
      if (color.length < 4 || color[3] === 1) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !element.checkVisibility() || element.closest(".visually-hidden")) continue;
    const style = getComputedStyle(element);
    const opacity = [...function* () { for (let n = element; n; n = n.parentElement) yield n; }()]
      .reduce((product, n) => product * Number(getComputedStyle(n).opacity), 1);
    if (opacity < 1) continue; // disabled controls, dimmed on purpose
    const [a, b] = [luminance(rgb(style.color).slice(0, 3)), luminance(background(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    found.push({ text: element.textContent.trim().slice(0, 40), ratio, needed: large ? 3 : 4.5 });
  }
  return found;
}
"""

FOCUS_RING = """
() => {
  const style = getComputedStyle(document.activeElement);
  return {
    tag: document.activeElement.tagName,
    label: (document.activeElement.textContent || document.activeElement.id).trim().slice(0, 40),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}
"""


def low_contrast(page) -> list[dict]:
    return [found for found in page.evaluate(CONTRASTS) if found["ratio"] < found["needed"]]


def focus_path(page, limit: int = 40) -> list[dict]:
    """Tab from the page's first link (the skip link) to its end: where the focus went, and
    whether it could be seen (a ring shows for focus the keyboard moved, so the skip link,
    focused by the test, is left out)."""
    page.locator("#skip-link").focus()
    path: list[dict] = []
    while len(path) < limit:
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUS_RING)
        if step["tag"] == "BODY":  # past the last element
            break
        path.append(step)
    return path
