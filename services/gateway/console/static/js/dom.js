// Building elements without HTML strings: text from the API is always text, never markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// A region's content replaced, and the announcement of it to screen readers.
export function show(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

export function announce(message) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A change of text is what a live region reads out.
  requestAnimationFrame(() => {
    status.textContent = message;
  });
}

export function message(kind, text) {
  return h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
