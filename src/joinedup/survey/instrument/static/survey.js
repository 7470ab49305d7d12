/* joinedup survey pages: live skip logic and constraints, and autosave.
 *
 * data-relevant / data-constraint hold the expression's syntax tree as JSON (see expr.py); ev() below
 * evaluates it with the same rules as the server (XPath-style: unanswered = '', numeric comparison
 * when both sides are numbers). No eval(): the page's Content-Security-Policy forbids it. The same
 * helpers (helper() below) are what expr.to_js() output calls, for contexts that may compile code.
 */
(function () {
  "use strict";
  var form = document.querySelector("form.survey");

  // the value of a question in the page: checked choices space-separated, as XLSForm stores them
  function answer(name) {
    if (!form) { return ""; }
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
  var NUMBER = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;  // as expr._NUMBER: Number("0x10") would be 16
  function num(v) {
    if (typeof v === "number") { return v; }
    if (typeof v === "boolean") { return v ? 1 : 0; }
    return typeof v === "string" && NUMBER.test(v) ? Number(v) : null;
  }
  function truthy(v) { return typeof v === "string" ? v !== "" : Boolean(v); }  // Boolean(NaN) is false
  function words(v) { return String(v).split(/\s+/).filter(Boolean); }
  function cmp(op, a, b) {
    var x = num(a), y = num(b);
    if (x === null || y === null) { x = String(a); y = String(b); }
    switch (op) {
      case "=": return x === y; case "!=": return x !== y; case "<": return x < y;
      case "<=": return x <= y; case ">": return x > y; default: return x >= y;
    }
  }
  function arith(op, a, b) {
    var x = num(a), y = num(b);
    if (x === null || y === null) { return NaN; }
    // JavaScript's / and % already follow XPath (1 div 0 = Infinity, mod truncates)
    return op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : op === "div" ? x / y : x % y;
  }
  function call(f) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (f === "selected") { return words(args[0]).indexOf(String(args[1])) >= 0; }
    if (f === "count-selected") { return words(args[0]).length; }
    if (f === "string-length") { return String(args[0]).length; }
    if (f === "not") { return !truthy(args[0]); }
    if (f === "number") { var n = num(args[0]); return n === null ? NaN : n; }
    if (f === "today") { return new Date().toISOString().slice(0, 10); }
    if (f === "regex") { return new RegExp(String(args[1])).test(String(args[0])); }
    return f === "true";
  }
  // S: the helper object that expr.to_js() output calls; lookup(name) gives an answer (default: the page)
  function helper(lookup, current) {
    var get = typeof lookup === "function" ? lookup
      : lookup ? function (n) { var v = lookup[n]; return v === undefined || v === null ? "" : Array.isArray(v) ? v.join(" ") : v; }
      : answer;
    return {
      ref: get, cur: function () { return current === undefined || current === null ? "" : current; },
      neg: function (v) { var n = num(v); return n === null ? NaN : -n; },
      truthy: truthy, cmp: cmp, arith: arith, call: call
    };
  }
  // ev: the JSON syntax tree of expr.parse(), evaluated with the same helpers (the page uses this: no eval)
  function ev(node, current, lookup) {
    var S = helper(lookup, current);
    function walk(n) {
      switch (n[0]) {
        case "ref": return S.ref(n[1]);
        case "num": case "str": return n[1];
        case "dot": return S.cur();
        case "neg": return S.neg(walk(n[1]));
        case "bin":
          if (n[1] === "and") { return truthy(walk(n[2])) && truthy(walk(n[3])); }
          if (n[1] === "or") { return truthy(walk(n[2])) || truthy(walk(n[3])); }
          if (["=", "!=", "<", "<=", ">", ">="].indexOf(n[1]) >= 0) { return cmp(n[1], walk(n[2]), walk(n[3])); }
          return arith(n[1], walk(n[2]), walk(n[3]));
        case "call": return call.apply(null, [n[1]].concat(n.slice(2).map(walk)));
      }
      return "";
    }
    return walk(node);
  }
  window.joinedupSurvey = { ev: ev, helper: helper, truthy: truthy };  // tests compare these with Python
  if (!form) { return; }

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

  // Autosave, one request at a time: a change made while a save is in flight is sent when that save
  // has been answered (never two at once, so the server never has to order them), and a button press
  // waits for the save in flight before the form is sent, so no autosave ever overlaps the submission.
  var dirty = false, url = form.getAttribute("data-autosave-url"), status = document.getElementById("save-status");
  var inflight = null;
  function say(text) { if (status) { status.textContent = text; } }
  function autosave() {
    if (!url || !dirty || inflight) { return; }
    dirty = false;
    var data = new FormData(form), failed = false;
    inflight = fetch(url, { method: "POST", body: data, credentials: "same-origin" }).then(function (r) {
      if (r.status === 409 && r.headers.get("X-Refused") === "already submitted") {
        url = null;  // a submitted response is final: stop autosaving and say so
        say("These answers were already submitted, so changes made here are not saved.");
      } else if (r.status === 409 && r.headers.get("X-Refused") === "survey closed") {
        url = null;
        say("This survey has closed, so changes made here are not saved.");
      } else {
        if (!r.ok) { dirty = true; failed = true; }  // not saved (busy): the 10-second timer sends it again
        say(r.ok ? "Your answers were saved at " + new Date().toLocaleTimeString() + "." : "Your answers could not be saved just now; they will be sent again in a few seconds.");
      }
    }).catch(function () { dirty = true; failed = true; say("Not saved: no connection."); }).then(function () {
      inflight = null;
      if (dirty && !failed) { autosave(); }  // after a failure, wait for the timer rather than retry at once
    });
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
  form.addEventListener("submit", function (e) {
    clearInterval(timer); url = null; dirty = false;
    if (inflight) {
      e.preventDefault();  // send the form once the save in flight has been answered
      var button = e.submitter;
      inflight.then(function () { if (form.requestSubmit) { form.requestSubmit(button); } else { form.submit(); } });
    }
  });
  update();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
