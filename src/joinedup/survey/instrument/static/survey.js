/* joinedup survey pages: live skip logic and constraints, and autosave.
 *
 * data-relevant / data-constraint hold the expression's syntax tree as JSON (see expr.py); ev() below
 * evaluates it with the same rules as the server (XPath-style: unanswered = '', numeric comparison
 * when both sides are numbers). No eval(): the page's Content-Security-Policy forbids it.
 */
(function () {
  "use strict";
  var form = document.querySelector("form.survey");
  if (!form) { return; }

  function answer(name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var picked = [];
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.disabled) { continue; }
      if (el.type === "radio" || el.type === "checkbox") { if (el.checked) { picked.push(el.value); } }
      else if (el.value !== "") { picked.push(el.value); }
    }
    return picked.join(" ");
  }
  function num(v) {
    if (typeof v === "number") { return v; }
    if (typeof v === "boolean") { return v ? 1 : 0; }
    if (v === "" || v === null || v === undefined || isNaN(Number(v))) { return null; }
    return Number(v);
  }
  function truthy(v) { return typeof v === "string" ? v !== "" : Boolean(v); }
  function cmp(op, a, b) {
    var x = num(a), y = num(b);
    if (x === null || y === null) { x = String(a); y = String(b); }
    switch (op) {
      case "=": return x === y; case "!=": return x !== y; case "<": return x < y;
      case "<=": return x <= y; case ">": return x > y; default: return x >= y;
    }
  }
  function ev(node, current) {
    switch (node[0]) {
      case "ref": return answer(node[1]);
      case "num": case "str": return node[1];
      case "dot": return current === undefined ? "" : current;
      case "neg": return -(num(ev(node[1], current)) || 0);
      case "bin": {
        var op = node[1], a = ev(node[2], current);
        if (op === "and") { return truthy(a) && truthy(ev(node[3], current)); }
        if (op === "or") { return truthy(a) || truthy(ev(node[3], current)); }
        var b = ev(node[3], current);
        if (["=", "!=", "<", "<=", ">", ">="].indexOf(op) >= 0) { return cmp(op, a, b); }
        var x = num(a), y = num(b);
        if (x === null || y === null) { return NaN; }
        return op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : op === "div" ? x / y : x % y;
      }
      case "call": {
        var f = node[1], args = node.slice(2).map(function (n) { return ev(n, current); });
        if (f === "selected") { return String(args[0]).split(/\s+/).indexOf(String(args[1])) >= 0; }
        if (f === "count-selected") { return String(args[0]).split(/\s+/).filter(Boolean).length; }
        if (f === "string-length") { return String(args[0]).length; }
        if (f === "not") { return !truthy(args[0]); }
        if (f === "number") { var n = num(args[0]); return n === null ? NaN : n; }
        if (f === "today") { return new Date().toISOString().slice(0, 10); }
        if (f === "regex") { return new RegExp(String(args[1])).test(String(args[0])); }
        return f === "true";
      }
    }
    return "";
  }
  window.joinedupSurvey = { ev: ev };  // exposed so tests can compare with the server's evaluator

  function update() {
    // in document order, so a hidden question does not count for those after it
    var blocks = form.querySelectorAll("[data-relevant]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var show = truthy(ev(JSON.parse(block.getAttribute("data-relevant"))));
      block.hidden = !show;
      var inputs = block.querySelectorAll("input, textarea, select");
      for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !show; }
    }
  }
  function checkConstraint(block) {
    var tree = block.getAttribute("data-constraint");
    if (!tree) { return; }
    var value = answer(block.getAttribute("data-name"));
    var input = block.querySelector("input, textarea");
    var ok = value === "" || truthy(ev(JSON.parse(tree), value));
    var msgId = block.getAttribute("data-name") + "-live-error";
    var msg = document.getElementById(msgId);
    if (!ok && !msg) {
      msg = document.createElement("p");
      msg.id = msgId; msg.className = "field-error"; msg.setAttribute("role", "alert");
      msg.textContent = block.getAttribute("data-constraint-message");
      block.appendChild(msg);
    } else if (ok && msg) { msg.parentNode.removeChild(msg); }
    if (input) { input.setAttribute("aria-invalid", ok ? "false" : "true"); }
  }

  var dirty = false, url = form.getAttribute("data-autosave-url"), status = document.getElementById("save-status");
  function autosave() {
    if (!url || !dirty) { return; }
    dirty = false;
    var data = new FormData(form);
    fetch(url, { method: "POST", body: data, credentials: "same-origin" }).then(function (r) {
      if (status) { status.textContent = r.ok ? "Your answers were saved at " + new Date().toLocaleTimeString() + "." : "Your answers could not be saved just now; they will be saved when you press a button."; }
    }).catch(function () { if (status) { status.textContent = "Not saved: no connection."; } });
  }
  form.addEventListener("change", function (e) {
    update();
    var block = e.target.closest(".question");
    if (block) { checkConstraint(block); }
    dirty = true;
    autosave();
  });
  form.addEventListener("input", function () { dirty = true; });
  var timer = setInterval(autosave, 10000);
  // once the respondent presses a button, the form itself carries the answers: no autosave may race it
  form.addEventListener("submit", function () { clearInterval(timer); url = null; });
  update();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
