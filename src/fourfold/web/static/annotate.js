/* fourfold annotate: every change is POSTed at once; until the server confirms
   it, it waits in a queue in localStorage, so a reload, a dropped connection or a
   restarted server loses nothing. Also: drag-to-rank (HTML5 drag and drop, with
   up/down buttons for keyboards and screen readers) and keyboard shortcuts.
   No dependencies, no inline code: the page's CSP allows only this file. */
(() => {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) return; // not logged in
  const csrf = meta.content;
  const root = document.getElementById("case");
  const QKEY = "fourfold-queue:" + (document.body.dataset.user || "");
  // the verdict names, in key order (1, 2, ...), as the server defines them
  const VERDICTS = root ? JSON.parse(root.dataset.verdicts || "[]") : [];
  const statusEl = document.getElementById("save-status");

  // ------------------------------------------------------------ the queue
  let memory = []; // used when localStorage is unavailable (private mode, quota)
  const loadQ = () => {
    try {
      const q = JSON.parse(localStorage.getItem(QKEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (e) { return memory.slice(); }
  };
  const saveQ = (q) => {
    memory = q.slice();
    try { localStorage.setItem(QKEY, JSON.stringify(q)); } catch (e) { /* memory keeps it */ }
  };

  function setStatus(state, text) {
    if (!statusEl) return;
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  const listeners = { pending: [], saved: [], failed: [], progress: [] };
  const emit = (kind, arg) => listeners[kind].forEach((f) => f(arg));

  function enqueue(op) {
    op.seq = Date.now() + Math.random();
    const q = loadQ().filter((o) => o.id !== op.id); // a newer change to the same thing replaces the older
    q.push(op);
    saveQ(q);
    emit("pending", op);
    flush();
  }

  let busy = false;
  let timer = null;
  let delay = 1000;

  function later(why, n) {
    const kept = n === 1 ? "1 change" : n + " changes";
    if (why === "auth") {
      setStatus("error", "Not saved: you are logged out. Open your login link again; " + kept + " kept in this browser.");
    } else {
      setStatus("offline", "Offline: " + kept + " waiting, retrying…");
    }
    clearTimeout(timer);
    timer = setTimeout(flush, why === "auth" ? 10000 : delay);
    delay = Math.min(delay * 2, 30000);
  }

  function confirmed(op) {
    const q = loadQ();
    const i = q.findIndex((o) => o.id === op.id);
    const newer = i >= 0 && q[i].seq !== op.seq;
    if (i >= 0 && !newer) {
      q.splice(i, 1);
      saveQ(q);
    }
    if (!newer) emit("saved", op);
  }

  function dropped(op, message) {
    const q = loadQ().filter((o) => !(o.id === op.id && o.seq === op.seq));
    saveQ(q);
    emit("failed", { op, message });
  }

  async function flush() {
    if (busy) return;
    busy = true;
    clearTimeout(timer);
    try {
      for (;;) {
        const q = loadQ();
        if (!q.length) {
          delay = 1000;
          setStatus("saved", "All changes saved");
          return;
        }
        const op = q[0];
        setStatus("saving", q.length > 1 ? "Saving " + q.length + " changes…" : "Saving…");
        let res;
        try {
          res = await fetch(op.url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
            body: JSON.stringify(op.body),
          });
        } catch (e) {
          later("offline", q.length);
          return;
        }
        if (res.ok) {
          let data = null;
          try { data = await res.json(); } catch (e) { /* saved all the same */ }
          delay = 1000;
          confirmed(op);
          if (data && data.progress) emit("progress", data.progress);
          continue;
        }
        if (res.status === 401 || res.status === 403) { later("auth", q.length); return; }
        if (res.status >= 500 || res.status === 408 || res.status === 429) { later("offline", q.length); return; }
        // 400, 404, 409, 422: this change can never be saved (the case changed or is no longer yours)
        let message = "error " + res.status;
        try { message = (await res.json()).detail || message; } catch (e) { /* keep the status */ }
        dropped(op, String(message));
      }
    } finally {
      busy = false;
    }
  }

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) flush(); });
  setInterval(() => { if (loadQ().length) flush(); }, 15000);

  if (!root) { flush(); return; }

  // ------------------------------------------------------------ the case page
  const caseHash = root.dataset.case;
  const cards = Array.from(document.querySelectorAll(".response"));
  const cardOf = (rid) => cards.find((c) => c.dataset.rid === rid);
  const list = document.getElementById("ranking");
  const rankState = document.getElementById("rank-state");
  const caseProgress = document.getElementById("case-progress");
  const help = document.getElementById("help");

  function cardStatus(card, state, text) {
    const el = card.querySelector(".card-status");
    el.dataset.state = state;
    el.textContent = text;
  }

  function showVerdict(card, verdict) {
    card.dataset.verdict = verdict;
    card.classList.toggle("has-verdict", Boolean(verdict));
    card.querySelectorAll("button.v").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.verdict === verdict));
    });
    if (list) {
      const li = list.querySelector('li[data-rid="' + card.dataset.rid + '"] .rank-verdict');
      if (li) li.dataset.verdict = verdict;
    }
  }

  function verdictOp(card) {
    return {
      id: "v:" + caseHash + ":" + card.dataset.rid,
      url: "/api/verdict",
      body: {
        case_hash: caseHash, response: card.dataset.rid, verdict: card.dataset.verdict,
        comment: card.querySelector(".comment").value,
      },
    };
  }

  function setVerdict(card, verdict) {
    showVerdict(card, verdict);
    enqueue(verdictOp(card));
  }

  function order() { return Array.from(list.children).map((li) => li.dataset.rid); }

  function showOrder(rids) {
    rids.forEach((rid) => {
      const li = list.querySelector('li[data-rid="' + rid + '"]');
      if (li) list.appendChild(li);
    });
  }

  function saveRanking() {
    enqueue({ id: "r:" + caseHash, url: "/api/ranking", body: { case_hash: caseHash, order: order() } });
  }

  function rankText(state, text) {
    if (!rankState) return;
    rankState.dataset.state = state;
    rankState.textContent = text;
  }

  // a save of this case, shown on its response's card or next to the ranking
  function showOp(op, state, cardText, rankingText) {
    if (op.body.case_hash !== caseHash) return;
    if (op.url === "/api/verdict") {
      const card = cardOf(op.body.response);
      if (card) cardStatus(card, state, cardText);
    } else {
      if (state === "saved" && rankState) rankState.dataset.ranked = "true";
      rankText(state, rankingText);
    }
  }
  listeners.pending.push((op) => showOp(op, "pending", "saving…", "saving ranking…"));
  listeners.saved.push((op) => showOp(op, "saved", "saved ✓", "ranking saved ✓"));
  listeners.failed.push(({ op, message }) => {
    if (op.body.case_hash === caseHash && op.url === "/api/verdict") {
      const card = cardOf(op.body.response);
      if (card) cardStatus(card, "error", "not saved: " + message);
    } else if (op.body.case_hash === caseHash) {
      rankText("error", "ranking not saved: " + message);
    }
    setStatus("error", "Not saved: " + message);
  });
  listeners.progress.push((p) => {
    const done = document.getElementById("progress-done");
    if (done) done.textContent = p.done;
    if (caseProgress && p.case) {
      caseProgress.textContent = "this case: " + p.case.n_judged + "/" + p.case.n_responses + " judged" +
        (p.case.n_responses > 1 ? (p.case.ranked ? " · ranked" : " · not ranked") : "") +
        (p.case.done ? " · done ✓" : "");
    }
  });

  // Changes made before a reload and not yet confirmed: show them as they were left.
  loadQ().forEach((op) => {
    if (op.body.case_hash !== caseHash) return;
    if (op.url === "/api/verdict") {
      const card = cardOf(op.body.response);
      if (!card) return;
      showVerdict(card, op.body.verdict);
      card.querySelector(".comment").value = op.body.comment || "";
    } else if (list) {
      showOrder(op.body.order);
    }
    emit("pending", op);
  });
  cards.forEach((card) => {
    const v = card.dataset.verdict;
    if (v) showVerdict(card, v);
  });

  // verdict buttons and comments
  cards.forEach((card) => {
    card.querySelectorAll("button.v").forEach((b) => {
      b.addEventListener("click", () => setVerdict(card, b.dataset.verdict));
    });
    const box = card.querySelector(".comment");
    let pause = null;
    const commit = () => {
      clearTimeout(pause);
      if (card.dataset.verdict) enqueue(verdictOp(card));
      else cardStatus(card, "hint", "choose a verdict to save the comment");
    };
    box.addEventListener("input", () => { clearTimeout(pause); pause = setTimeout(commit, 600); });
    box.addEventListener("change", commit);
  });

  // ranking: buttons, drag and drop
  function move(li, step) {
    if (step < 0 && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
    else if (step > 0 && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
    else return;
    saveRanking();
  }
  if (list) {
    list.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      const li = b.closest("li");
      move(li, b.classList.contains("up") ? -1 : 1);
      b.focus();
    });
    let dragged = null;
    let before = "";
    list.addEventListener("dragstart", (e) => {
      const li = e.target.closest("li");
      if (!li) return;
      dragged = li;
      before = order().join();
      li.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", li.dataset.rid);
    });
    list.addEventListener("dragover", (e) => {
      if (!dragged) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      const over = e.target.closest("li");
      if (!over || over === dragged) return;
      const box = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextElementSibling : over);
    });
    list.addEventListener("drop", (e) => { if (dragged) e.preventDefault(); });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      if (order().join() !== before) saveRanking();
    });
    const confirm = document.getElementById("rank-save");
    if (confirm) confirm.addEventListener("click", saveRanking);
  }

  // keyboard
  let current = 0;
  function highlight(i, focus) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, j) => c.classList.toggle("current", j === current));
    if (focus) {
      cards[current].focus({ preventScroll: true });
      cards[current].scrollIntoView({ block: "nearest" });
    }
  }
  cards.forEach((c, i) => c.addEventListener("focusin", () => highlight(i, false)));
  highlight(0, false);

  function go(url) { if (url) window.location.href = url; }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t.matches && t.matches("textarea, input, select")) {
      if (e.key === "Escape") { t.blur(); if (cards[current]) cards[current].focus(); }
      return;
    }
    if (help && help.open) {
      if (e.key === "?") { help.close(); e.preventDefault(); }
      return;
    }
    const card = cards[current];
    switch (e.key) {
      case "1": case "2": case "3": case "4": case "5": case "6": case "7": case "8": case "9":
        if (card && Number(e.key) <= VERDICTS.length) setVerdict(card, VERDICTS[Number(e.key) - 1]);
        break;
      case "j": highlight(current + 1, true); break;
      case "k": highlight(current - 1, true); break;
      case "c": if (card) card.querySelector(".comment").focus(); break;
      case "u": case "d": {
        const li = (t.closest && t.closest("#ranking li")) ||
          (list && card && list.querySelector('li[data-rid="' + card.dataset.rid + '"]'));
        if (li) { move(li, e.key === "u" ? -1 : 1); li.focus(); }
        break;
      }
      case "n": go(root.dataset.next); break;
      case "p": go(root.dataset.prev); break;
      case "?": if (help) help.showModal(); break;
      default: return;
    }
    e.preventDefault();
  });

  flush();
})();
