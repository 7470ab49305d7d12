// The workbench's reader: turn a selection in the source text (mouse or Shift+arrows) into the
// character offsets the server stores (Unicode code points, as Python indexes strings), keep the
// text read-only although it is focusable and caret-navigable, and apply codes with Ctrl+Enter.
(function () {
  "use strict";
  const text = document.getElementById("source-text");
  if (!text) return;
  const startField = document.getElementById("span-start");
  const endField = document.getElementById("span-end");
  const status = document.getElementById("selection-status");
  const form = document.getElementById("code-form");

  // code points in the first `units` UTF-16 units of a string (an emoji is 2 units, 1 code point)
  function codePoints(s, units) { return Array.from(s.slice(0, units)).length; }

  // the stored offset of a DOM position (node, offset) inside the text, or null outside it
  function offsetOf(node, offset) {
    if (!text.contains(node)) return null;
    if (node === text) {
      const child = text.childNodes[offset];
      return child ? Number(child.dataset.s) : Number(text.dataset.length);
    }
    const piece = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    const base = Number(piece.closest("[data-s]").dataset.s);
    return node.nodeType === Node.TEXT_NODE ? base + codePoints(node.data, offset) : base;
  }

  function update() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0) return;
    const range = sel.getRangeAt(0);
    const a = offsetOf(range.startContainer, range.startOffset);
    const b = offsetOf(range.endContainer, range.endOffset);
    if (a === null || b === null) return;
    if (a === b) { status.textContent = "No text selected."; return; }
    startField.value = Math.min(a, b);
    endField.value = Math.max(a, b);
    const chosen = sel.toString();
    status.textContent = "Selected characters " + startField.value + " to " + endField.value + ": “" +
      (chosen.length > 80 ? chosen.slice(0, 80) + "…" : chosen) + "”";
  }

  document.addEventListener("selectionchange", update);
  // read-only: no typing, pasting, dropping or cutting changes the text
  text.addEventListener("beforeinput", function (e) { e.preventDefault(); });
  text.addEventListener("drop", function (e) { e.preventDefault(); });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      update();
      if (form.querySelector("input[type=checkbox][name^='code-']:checked")) form.requestSubmit();
      else { const first = form.querySelector("input[type=checkbox]"); if (first) first.focus(); }
    }
  });
})();
