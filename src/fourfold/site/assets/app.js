// fourfold leaderboard site: renders everything from data/*.js chunks (no server, works from file://).
// Every string from the data is hostile (model answers, case texts): it reaches the page through
// textContent / createTextNode / setAttribute on plain attributes only, never innerHTML.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE = 50;
  const VERDICT_NAME = {g: "good", u: "unclear", b: "bad", j: "unjudged", n: "not evaluated", e: "error", "-": "no result"};
  const JUDGED = new Set(["g", "u", "b"]);
  const VALUE = {g: 1, u: 0.5, b: 0};
  const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
                   "#9333ea", "#ea580c", "#0f766e", "#4b5563"];
  const store = {summary: null, index: [], cases: {}};
  const loading = {};
  let routeToken = 0;

  // ------------------------------------------------------------------ data loading
  const FF = window.FF = {
    add(kind, n, data) {
      if (kind === "summary") store.summary = data;
      else if (kind === "index") store.index[n] = data;
      else if (kind === "cases") store.cases[n] = data;
    },
  };
  function load(kind, n) {
    const name = `data/${kind}-${String(n).padStart(4, "0")}.js`;
    if (!loading[name]) {
      loading[name] = new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = name;
        s.onload = () => resolve();
        s.onerror = () => reject(new Error(`cannot load ${name}`));
        document.head.appendChild(s);
      });
    }
    return loading[name];
  }
  let indexReady = null;
  function loadIndex() {
    if (!indexReady) {
      indexReady = (async () => {
        for (let i = 0; i < store.summary.chunks.index; i++) await load("index", i);
        FF.rows = [].concat(...store.index);
        return FF.rows;
      })();
    }
    return indexReady;
  }
  async function caseDetail(i) {
    const size = store.summary.chunks.cases_size;
    const c = Math.floor(i / size);
    await load("cases", c);
    return store.cases[c][i - c * size];
  }

  // ------------------------------------------------------------------ DOM helpers (text only)
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) append(e, c);
    return e;
  }
  function append(parent, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach((x) => append(parent, x));
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
    for (const c of children) append(e, c);
    return e;
  }
  const fmt = (x) => (x === null || x === undefined ? "—" : x.toFixed(1));
  const ci = (c) => (c ? `${c[0].toFixed(1)}–${c[1].toFixed(1)}` : "");
  const colour = (m) => PALETTE[store.summary.models.indexOf(m) % PALETTE.length];
  const hashFor = (path, params) => {
    const q = Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    return `#/${path}${q ? "?" + q : ""}`;
  };
  const link = (text, path, params, cls) => el("a", {href: hashFor(path, params), class: cls}, text);
  function main(...children) {
    const m = document.getElementById("main");
    m.replaceChildren(...children.flat().filter(Boolean));
    return m;
  }

  // ------------------------------------------------------------------ metadata (every page)
  function renderMeta() {
    const meta = store.summary.meta;
    const box = document.getElementById("meta");
    const suites = Object.entries(meta.suites).map(([s, h]) => `${s} ${h}`).join(", ") || "—";
    const judges = Object.entries(meta.judges).map(([j, n]) => `${j} (${n})`);
    const settings = Object.entries(meta.settings).map(([m, ss]) => el("li", {}, el("b", {text: m}), ": ", ss.join(" | ")));
    box.replaceChildren(
      el("span", {class: "meta-item", "data-meta": "version"}, "fourfold ", meta.version),
      el("span", {class: "meta-item", "data-meta": "suite"}, "suite hash: ", suites),
      el("span", {class: "meta-item", "data-meta": "dates"}, "results: ", meta.dates.filter(Boolean).join(" to ") || "—",
         ` · ${store.summary.n_results} results, ${store.summary.n_cases} cases, ${store.summary.models.length} models`),
      el("span", {class: "meta-item", "data-meta": "built"}, "built ", meta.built),
      el("details", {class: "meta-more"}, el("summary", {}, "judges, generation settings, stores"),
        el("div", {"data-meta": "judges"}, el("b", {}, "Judges: "), judges.join("; ") || "—"),
        el("div", {"data-meta": "settings"}, el("b", {}, "Generation settings:"), el("ul", {}, settings)),
        el("div", {"data-meta": "sources"}, el("b", {}, "Stores: "),
          meta.sources.map((s) => `${s.store} (${s.results} results: ${s.models.join(", ")})`).join("; "),
          meta.superseded ? ` · ${meta.superseded} older answer(s) superseded by a newer one` : "")));
  }

  // ------------------------------------------------------------------ sortable tables
  function sortable(table) {
    const head = table.tHead.rows[0];
    [...head.cells].forEach((th, col) => {
      if (!th.dataset.sort) return;
      th.classList.add("sortable");
      th.tabIndex = 0;
      const go = () => {
        const desc = th.getAttribute("aria-sort") !== "descending";
        [...head.cells].forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        const rows = [...table.tBodies[0].rows];
        const key = (r) => r.cells[col].dataset.v;
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const nx = x === "" || x === undefined ? null : Number(x), ny = y === "" || y === undefined ? null : Number(y);
          if (th.dataset.sort === "text") return (desc ? -1 : 1) * String(x).localeCompare(String(y));
          if (nx === null && ny === null) return 0;
          if (nx === null) return 1;
          if (ny === null) return -1;
          return desc ? ny - nx : nx - ny;
        });
        table.tBodies[0].append(...rows);
      };
      th.addEventListener("click", go);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
    });
    return table;
  }
  const td = (v, ...children) => el("td", {"data-v": v === null || v === undefined ? "" : v}, ...children);

  function scoreCell(s, cell) {
    if (!s || !s.n) return td(null, el("span", {class: "empty"}, "—"));
    const chance = s.chance !== null && s.chance !== undefined ? el("div", {class: "chance"}, `chance ${fmt(s.chance)}`) : null;
    return td(s.rel !== null ? s.rel : s.abs,
      el("a", {href: hashFor(`cell/${cell}`), class: "score"}, s.rel !== null ? fmt(s.rel) : fmt(s.abs)),
      el("div", {class: "abs"}, `abs ${fmt(s.abs)} [${ci(s.ci)}] n=${s.n}`), chance);
  }

  // ------------------------------------------------------------------ leaderboards
  function meanOver(model, cells, key) {
    const vals = cells.map((c) => store.summary.scores[model][c][key]);
    return vals.every((v) => v !== null && v !== undefined) && vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  }
  function board(title, id, cells) {
    const S = store.summary;
    const models = S.models.filter((m) => cells.some((c) => S.scores[m][c].n));
    const shared = (key) => cells.filter((c) => models.every((m) => S.scores[m][c][key] !== null));
    const relCells = shared("rel"), absCells = shared("abs");
    const head = el("tr", {}, el("th", {"data-sort": "text"}, "model"),
      el("th", {"data-sort": "num"}, "mean relative"), el("th", {"data-sort": "num"}, "mean absolute"),
      cells.map((c) => el("th", {"data-sort": "num", "data-cell": c}, id === "overall" ? c : c.split("/")[1])));
    const rows = models.map((m) => el("tr", {"data-model": m},
      td(m, el("span", {class: "swatch", "data-colour": colour(m)}), m),
      td(meanOver(m, relCells, "rel"), fmt(meanOver(m, relCells, "rel"))),
      td(meanOver(m, absCells, "abs"), fmt(meanOver(m, absCells, "abs"))),
      cells.map((c) => scoreCell(S.scores[m][c], c))));
    const table = el("table", {class: "board", id: `board-${id}`}, el("thead", {}, head), el("tbody", {}, rows));
    sortable(table);
    return el("section", {class: "board-section"}, el("h2", {}, title),
      el("p", {class: "note"}, `Relative score (Eq. 1: (n − mean rank)/(n − 1) × 100 among the models judged together; `
        + `100 = best of them) in large type; absolute score (good 1, unclear ½) with its 95% Wilson interval and n below. `
        + `Means cover only the columns every model here has: relative over ${relCells.length}, absolute over ${absCells.length} `
        + `of ${cells.length}. Click a column to sort.`),
      models.length ? table : el("p", {}, "No judged results here."));
  }
  function viewBoards() {
    const S = store.summary;
    const out = [board("Overall (12 cells)", "overall", S.cells)];
    for (const mod of S.modalities) out.push(board(`${mod}`, mod, S.properties.map((p) => `${mod}/${p}`)));
    main(el("h1", {}, "Leaderboards"), out);
    colourSwatches();
  }
  function colourSwatches() {
    document.querySelectorAll("[data-colour]").forEach((e) => { e.style.background = e.dataset.colour; });
  }

  // ------------------------------------------------------------------ radar
  function radar(metric, hidden) {
    const S = store.summary, W = 560, R = 200, cx = W / 2, cy = W / 2;
    const n = S.cells.length;
    const pt = (i, v) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
      return [cx + Math.cos(a) * R * v / 100, cy + Math.sin(a) * R * v / 100];
    };
    const g = svg("svg", {viewBox: `-120 -10 ${W + 240} ${W + 20}`, class: "radar", role: "img", "aria-label": `radar of ${metric} scores`});
    for (const lvl of [25, 50, 75, 100]) {
      g.appendChild(svg("polygon", {class: "grid", points: S.cells.map((_, i) => pt(i, lvl).join(",")).join(" ")}));
    }
    S.cells.forEach((c, i) => {
      const [x, y] = pt(i, 100);
      const [lx, ly] = pt(i, 118);
      g.appendChild(svg("line", {class: "axis", x1: cx, y1: cy, x2: x, y2: y}));
      g.appendChild(svg("text", {x: lx, y: ly, "text-anchor": lx < cx - 5 ? "end" : lx > cx + 5 ? "start" : "middle",
                                 class: "axis-label"}, c));
    });
    for (const m of S.models) {
      const vals = S.cells.map((c) => S.scores[m][c][metric]);
      const pts = vals.map((v, i) => pt(i, v === null ? 0 : v).join(",")).join(" ");
      const poly = svg("polygon", {class: "model", points: pts, "data-model": m, stroke: colour(m), fill: colour(m)},
        svg("title", {}, `${m}: ` + S.cells.map((c, i) => `${c} ${fmt(vals[i])}`).join(", ")));
      if (hidden.has(m)) poly.classList.add("hidden");
      g.appendChild(poly);
    }
    return g;
  }
  function viewRadar(params) {
    const S = store.summary;
    const metric = params.get("metric") === "rel" ? "rel" : "abs";
    const hidden = new Set((params.get("hide") || "").split(",").filter(Boolean));
    const chart = el("div", {class: "radar-box"}, radar(metric, hidden));
    const toggles = S.models.map((m) => {
      const box = el("input", {type: "checkbox", "data-model": m, checked: !hidden.has(m)});
      box.addEventListener("change", () => {
        chart.querySelector(`polygon.model[data-model="${CSS.escape(m)}"]`).classList.toggle("hidden", !box.checked);
      });
      return el("label", {class: "toggle"}, box, el("span", {class: "swatch", "data-colour": colour(m)}), m);
    });
    const pick = el("select", {id: "radar-metric"}, el("option", {value: "abs", selected: metric === "abs"}, "absolute"),
      el("option", {value: "rel", selected: metric === "rel"}, "relative"));
    pick.addEventListener("change", () => { location.hash = hashFor("radar", {metric: pick.value}); });
    main(el("h1", {}, "Radar: the 12 cells per model"),
      el("p", {class: "note"}, "Toggle models to overlay or hide them. Empty cells are drawn at 0. Per-category bars are on each cell's page:"),
      el("p", {class: "cells"}, S.cells.map((c) => link(c, `cell/${c}`, null, "chip"))),
      el("div", {class: "controls"}, el("label", {}, "score ", pick), el("div", {id: "radar-toggles"}, toggles)), chart);
    colourSwatches();
  }

  // ------------------------------------------------------------------ cell page: per-category bars
  function categoryBars(cell) {
    const S = store.summary, cats = S.categories[cell] || {};
    const names = Object.keys(cats).sort();
    const models = S.models.filter((m) => names.some((k) => cats[k][m]));
    const LW = 190, BW = 360, BH = 10, GAP = 3, GG = 12;
    let y = 6;
    const g = svg("svg", {class: "bars", role: "img", "aria-label": `per-category scores in ${cell}`});
    for (const k of names) {
      const present = models.filter((m) => cats[k][m]);
      const gh = present.length * (BH + GAP);
      const a = svg("a", {href: hashFor("cases", {cell, category: k})},
        svg("text", {x: LW - 8, y: y + gh / 2 + 4, "text-anchor": "end", class: "bar-label"}, k));
      g.appendChild(a);
      present.forEach((m, i) => {
        const s = cats[k][m], by = y + i * (BH + GAP);
        g.appendChild(svg("rect", {x: LW, y: by, width: Math.max(1, BW * s.abs / 100), height: BH, fill: colour(m),
                                   class: "bar", "data-model": m, "data-category": k},
          svg("title", {}, `${m} · ${k}: ${fmt(s.abs)} [${ci(s.ci)}] n=${s.n}`)));
        g.appendChild(svg("line", {x1: LW + BW * s.ci[0] / 100, x2: LW + BW * s.ci[1] / 100, y1: by + BH / 2,
                                   y2: by + BH / 2, class: "whisker"}));
        g.appendChild(svg("text", {x: LW + BW + 6, y: by + BH - 1, class: "bar-value"}, `${fmt(s.abs)} (n=${s.n})`));
      });
      y += gh + GG;
    }
    g.setAttribute("viewBox", `0 0 ${LW + BW + 90} ${Math.max(y, 20)}`);
    g.setAttribute("width", LW + BW + 90);
    g.setAttribute("height", Math.max(y, 20));
    return g;
  }
  function viewCell(cell) {
    const S = store.summary;
    if (!S.cells.includes(cell)) return notFound(`no cell ${cell}`);
    const rows = S.models.map((m) => {
      const s = S.scores[m][cell];
      return el("tr", {"data-model": m}, td(m, el("span", {class: "swatch", "data-colour": colour(m)}),
        link(m, "cases", {cell, model: m})), scoreCell(s, cell), td(s.abs, fmt(s.abs)), td(s.n, String(s.n)),
        td(s.chance, fmt(s.chance)),
        td(null, Object.entries(s.counts).map(([v, n]) => el("span", {class: `v v-${v}`}, `${v.replace("_", " ")} ${n}`))));
    });
    const table = sortable(el("table", {class: "board", id: "cell-table"}, el("thead", {}, el("tr", {},
      el("th", {"data-sort": "text"}, "model"), el("th", {"data-sort": "num"}, "relative (abs, 95% CI, n)"),
      el("th", {"data-sort": "num"}, "absolute"), el("th", {"data-sort": "num"}, "n judged"),
      el("th", {"data-sort": "num"}, "chance"), el("th", {}, "verdicts"))), el("tbody", {}, rows)));
    main(el("p", {class: "crumbs"}, link("leaderboards", ""), " › ", cell),
      el("h1", {}, cell), table,
      el("h2", {}, "Per category (absolute score, 95% interval)"),
      el("p", {class: "note"}, "Click a category for its cases."), categoryBars(cell),
      el("p", {}, link(`all cases in ${cell} →`, "cases", {cell})));
    colourSwatches();
  }

  // ------------------------------------------------------------------ cases: filters, search, pagination
  function filterRows(rows, f) {
    const S = store.summary, str = S.strings, mi = f.model ? S.models.indexOf(f.model) : -1;
    const q = (f.q || "").toLowerCase();
    const out = [];
    for (let i = 0; i < rows.length; i++) {
      const [, cell, cat, pert, code] = rows[i];
      if (f.cell && str[cell] !== f.cell) continue;
      if (f.category && str[cat] !== f.category) continue;
      if (f.pert && (f.pert === "(none)" ? str[pert] !== "" : str[pert] !== f.pert)) continue;
      if (f.model && code[mi] === "-") continue;
      if (f.verdict) {
        const v = f.verdict;
        if (mi >= 0 ? code[mi] !== v : !code.includes(v)) continue;
      }
      if (f.disagree) {
        const [a, b] = f.disagree;
        if (!JUDGED.has(code[a]) || !JUDGED.has(code[b]) || code[a] === code[b]) continue;
      }
      out.push(i);
    }
    return q ? out.filter((i) => rows[i][0].toLowerCase().includes(q) || str[rows[i][2]].toLowerCase().includes(q)) : out;
  }
  function detailText(d) {
    const parts = [d.reference];
    for (const m of d.input || []) for (const p of m.parts) if (p.t === "text") parts.push(p.text);
    for (const r of d.results) parts.push(r.response || "", r.rationale || "", r.model);
    return parts.join("\n").toLowerCase();
  }
  async function searchText(rows, candidates, q, token, progress) {
    // id/category matches are immediate; answers and case texts need their detail chunks, loaded in turn
    const size = store.summary.chunks.cases_size, hits = [], byChunk = new Map();
    for (const i of candidates) {
      const c = Math.floor(i / size);
      if (!byChunk.has(c)) byChunk.set(c, []);
      byChunk.get(c).push(i);
    }
    let done = 0;
    for (const [c, ids] of byChunk) {
      await load("cases", c);
      if (token !== routeToken) return null;
      for (const i of ids) {
        const d = store.cases[c][i - c * size];
        if (rows[i][0].toLowerCase().includes(q) || detailText(d).includes(q)) hits.push(i);
      }
      done++;
      if (done % 20 === 0) progress(done, byChunk.size, hits.length);
    }
    return hits;
  }
  function filterBar(f, onChange) {
    const S = store.summary;
    const opt = (v, label, sel) => el("option", {value: v, selected: sel === v}, label);
    const cats = [...new Set(Object.entries(S.categories).filter(([c]) => !f.cell || c === f.cell)
      .flatMap(([, cs]) => Object.keys(cs)))].sort();
    const perts = S.strings.filter((s, i) => s && FF.rows.some((r) => r[3] === i));
    const sel = (id, label, options, value) => {
      const s = el("select", {id, "aria-label": label}, opt("", `any ${label}`, value), options);
      s.addEventListener("change", () => onChange({[id.slice(2)]: s.value}));
      return el("label", {}, label, " ", s);
    };
    const q = el("input", {type: "search", id: "f-q", value: f.q || "", placeholder: "text in case or answers"});
    q.addEventListener("change", () => onChange({q: q.value}));
    return el("div", {class: "filters"},
      sel("f-cell", "cell", S.cells.map((c) => opt(c, c, f.cell)), f.cell),
      sel("f-category", "category", cats.map((c) => opt(c, c, f.category)), f.category),
      sel("f-verdict", "verdict", Object.entries(VERDICT_NAME).filter(([k]) => k !== "-").map(([k, n]) => opt(k, n, f.verdict)), f.verdict),
      sel("f-model", "model", S.models.map((m) => opt(m, m, f.model)), f.model),
      sel("f-pert", "perturbation", [opt("(none)", "(original)", f.pert), ...perts.map((p) => opt(p, p, f.pert))], f.pert),
      el("label", {}, "search ", q), link("reset", "cases", {}, "reset"));
  }
  function caseRow(rows, i, models) {
    const S = store.summary, [id, cell, cat, pert, code] = rows[i];
    return el("tr", {"data-case": i},
      td(id, el("a", {href: `#/case/${i}`, class: "case-id"}, id)),
      td(S.strings[cell], S.strings[cell]), td(S.strings[cat], S.strings[cat]), td(S.strings[pert], S.strings[pert]),
      models.map((m) => {
        const v = code[S.models.indexOf(m)];
        return el("td", {class: `v v-${VERDICT_NAME[v].replace(" ", "_")}`, "data-model": m, title: `${m}: ${VERDICT_NAME[v]}`}, VERDICT_NAME[v]);
      }));
  }
  function caseTable(rows, ids, page, models) {
    const start = page * PAGE, slice = ids.slice(start, start + PAGE);
    return el("table", {class: "cases", id: "case-table"}, el("thead", {}, el("tr", {}, el("th", {}, "case"), el("th", {}, "cell"),
      el("th", {}, "category"), el("th", {}, "perturbation"), models.map((m) => el("th", {}, m)))),
    el("tbody", {}, slice.map((i) => caseRow(rows, i, models))));
  }
  function pager(total, page, go) {
    const pages = Math.max(1, Math.ceil(total / PAGE));
    const btn = (label, p, id) => el("button", {type: "button", id, disabled: p < 0 || p >= pages, onclick: () => go(p)}, label);
    return el("div", {class: "pager"}, btn("‹ previous", page - 1, "prev"),
      el("span", {id: "page-info"}, ` page ${page + 1} of ${pages} `), btn("next ›", page + 1, "next"));
  }
  async function viewCases(params) {
    const token = routeToken;
    const f = Object.fromEntries(["cell", "category", "verdict", "model", "pert", "q"].map((k) => [k, params.get(k) || ""]));
    const page = Math.max(0, Number(params.get("page") || 0) | 0);
    main(el("h1", {}, "Cases"), el("p", {id: "count"}, "Loading the case index…"));
    const rows = await loadIndex();
    if (token !== routeToken) return;
    const onChange = (ch) => { location.hash = hashFor("cases", {...f, ...ch, page: ""}); };
    const count = el("p", {id: "count"});
    const listBox = el("div", {id: "case-list"});
    const models = f.model ? [f.model] : store.summary.models;
    const show = (ids, note) => {
      count.textContent = `${ids.length} of ${rows.length} case(s)${note || ""}`;
      listBox.replaceChildren(pager(ids.length, page, (p) => { location.hash = hashFor("cases", {...f, page: p || ""}); }),
        caseTable(rows, ids, page, models));
    };
    main(el("p", {class: "crumbs"}, link("leaderboards", ""), " › cases"),
      el("h1", {}, "Cases"), filterBar(f, onChange), count, listBox);
    const base = filterRows(rows, {...f, q: ""});
    if (!f.q) return show(base);
    const quick = filterRows(rows, f);
    show(quick, " (ids and categories; searching case texts and answers…)");
    const hits = await searchText(rows, base, f.q.toLowerCase(), token,
      (d, n, h) => { count.textContent = `${h} match(es) so far; searched ${d} of ${n} chunk(s)…`; });
    if (hits === null || token !== routeToken) return;
    show(hits, ` matching “${f.q}” in ids, case texts and answers`);
  }

  // ------------------------------------------------------------------ one case
  function inputView(d) {
    if (!d.input) return el("p", {class: "missing"}, "(case not in store)");
    return d.input.map((m) => el("div", {class: `msg role-${m.role}`}, el("div", {class: "role"}, m.role),
      m.parts.map((p) => {
        if (p.t === "text") return el("pre", {class: "text"}, p.text);
        if (!p.src) return el("p", {class: "missing"}, `[${p.t}: ${p.name} not available${p.missing ? ": " + p.missing : ""}]`);
        if (p.t === "image") return el("figure", {class: "media"}, el("img", {src: p.src, alt: p.name, loading: "lazy"}), el("figcaption", {}, p.name));
        return el("figure", {class: "media video"},
          el("video", {src: p.src, controls: true, preload: "metadata", id: "case-video"}), el("figcaption", {}, p.name),
          p.frames.length ? el("div", {class: "frames"}, el("div", {class: "frames-note"}, `the ${p.frames.length} frames the models saw`),
            p.frames.map((f, k) => el("img", {src: f, alt: `frame ${k + 1}`, loading: "lazy", class: "frame"}))) : null);
      })));
  }
  function answerCard(r) {
    const v = r.v.replace(" ", "_");
    return el("article", {class: `answer v-${v}`, "data-model": r.model},
      el("header", {}, el("span", {class: "swatch", "data-colour": colour(r.model)}), el("b", {class: "model"}, r.model),
        el("span", {class: `verdict v v-${v}`}, r.v.replace("_", " ")),
        r.rank !== null && r.rank !== undefined ? el("span", {class: "rank"}, `rank ${r.rank}`) : null),
      r.response !== null && r.response !== undefined ? el("pre", {class: "response"}, r.response) : el("p", {class: "missing"}, r.error || `(${r.status})`),
      r.rationale ? el("p", {class: "rationale"}, r.rationale) : null,
      el("p", {class: "judge"}, `judged by ${r.source}: ${r.by || "—"}`));
  }
  async function viewCase(i) {
    const token = routeToken;
    const rows = await loadIndex();
    if (token !== routeToken) return;
    if (!(i >= 0 && i < rows.length)) return notFound(`no case #${i}`);
    const d = await caseDetail(i);
    if (token !== routeToken) return;
    const S = store.summary, [id, cell, cat, pert] = rows[i];
    main(el("p", {class: "crumbs"}, link("leaderboards", ""), " › ", link(S.strings[cell], `cell/${S.strings[cell]}`),
        " › ", link(S.strings[cat], "cases", {cell: S.strings[cell], category: S.strings[cat]}), " › ", id),
      el("h1", {class: "case-title"}, id),
      el("p", {class: "case-meta"}, `${S.strings[cell]} · ${S.strings[cat]}`, S.strings[pert] ? ` · perturbation: ${S.strings[pert]}` : ""),
      el("nav", {class: "pager"}, i > 0 ? el("a", {href: `#/case/${i - 1}`, id: "prev-case"}, "‹ previous case") : null, " ",
        i + 1 < rows.length ? el("a", {href: `#/case/${i + 1}`, id: "next-case"}, "next case ›") : null),
      el("h2", {}, "Input"), el("div", {class: "input"}, inputView(d)),
      el("p", {class: "reference"}, el("b", {}, "A good answer: "), d.reference),
      el("h2", {}, "Answers"), el("div", {class: "answers"}, d.results.map(answerCard)));
    colourSwatches();
  }

  // ------------------------------------------------------------------ compare two models
  async function viewCompare(params) {
    const token = routeToken, S = store.summary;
    const a = params.get("a") || S.models[0] || "", b = params.get("b") || S.models[1] || "";
    const page = Math.max(0, Number(params.get("page") || 0) | 0);
    const pick = (id, value) => {
      const s = el("select", {id}, S.models.map((m) => el("option", {value: m, selected: m === value}, m)));
      s.addEventListener("change", () => {
        const x = document.getElementById("cmp-a").value, y = document.getElementById("cmp-b").value;
        location.hash = hashFor("compare", {a: x, b: y});
      });
      return s;
    };
    const head = [el("h1", {}, "Compare two models"), el("div", {class: "controls"}, "A ", pick("cmp-a", a), " B ", pick("cmp-b", b))];
    if (!a || !b || a === b) return main(head, el("p", {}, "Pick two different models."));
    const swap = S.pairs[`${a}\t${b}`] === undefined;
    const diffs = S.pairs[swap ? `${b}\t${a}` : `${a}\t${b}`] || {};
    const rows = S.cells.filter((c) => diffs[c]).map((c) => {
      const d = diffs[c], sign = swap ? -1 : 1;
      const lo = d.ci ? sign * (swap ? d.ci[1] : d.ci[0]) : null, hi = d.ci ? sign * (swap ? d.ci[0] : d.ci[1]) : null;
      const diff = sign * d.diff, clear = lo !== null && (lo > 0 || hi < 0);
      return el("tr", {"data-cell": c, class: clear ? "clear" : ""}, td(c, link(c, `cell/${c}`)), td(d.n, String(d.n)),
        td(diff, (diff > 0 ? "+" : "") + fmt(diff)), td(lo, lo === null ? "—" : `${fmt(lo)} to ${fmt(hi)}`),
        td(swap ? d.b_better : d.a_better, String(swap ? d.b_better : d.a_better)),
        td(swap ? d.a_better : d.b_better, String(swap ? d.a_better : d.b_better)));
    });
    const table = sortable(el("table", {class: "board", id: "compare-table"}, el("thead", {}, el("tr", {},
      el("th", {"data-sort": "text"}, "cell"), el("th", {"data-sort": "num"}, "shared judged cases"),
      el("th", {"data-sort": "num"}, "A − B (points)"), el("th", {"data-sort": "num"}, "95% interval (paired)"),
      el("th", {"data-sort": "num"}, "A better"), el("th", {"data-sort": "num"}, "B better"))), el("tbody", {}, rows)));
    main(head, el("p", {class: "note"}, "Per cell, the mean per-case difference on the cases both models were judged on "
      + "(good 1, unclear ½, bad 0), with a paired 95% interval; rows whose interval excludes 0 are marked."), table,
    el("h2", {}, "Cases where they disagree"), el("p", {id: "count"}, "Loading the case index…"));
    const idx = await loadIndex();
    if (token !== routeToken) return;
    const ids = filterRows(idx, {disagree: [S.models.indexOf(a), S.models.indexOf(b)]});
    document.getElementById("count").textContent = `${ids.length} case(s) where one was judged better than the other`;
    document.getElementById("main").append(pager(ids.length, page, (p) => { location.hash = hashFor("compare", {a, b, page: p || ""}); }),
      caseTable(idx, ids, page, [a, b]));
  }

  // ------------------------------------------------------------------ the study's published table
  function viewReference() {
    const R = store.summary.reference;
    if (!R) return main(el("h1", {}, "Published reference"), el("p", {}, "This fourfold ships no published table."));
    const cells = Object.keys(R.cells);
    const table = el("table", {class: "board reference", id: "reference-table"}, el("thead", {}, el("tr", {}, el("th", {}, "cell"),
      el("th", {}, "cases"), R.models.map((m) => el("th", {title: m.full_name}, m.name)))),
    el("tbody", {}, cells.map((c) => el("tr", {}, el("td", {}, c), el("td", {}, String(R.cells[c].n_cases)),
      R.models.map((m) => el("td", {}, R.cells[c].scores[m.id] === undefined ? "—" : String(R.cells[c].scores[m.id])))))));
    main(el("h1", {}, "Reference: the study's published scores"),
      el("p", {class: "warning"}, "A reference panel, not part of the leaderboard: these are the published relative "
        + "scores of the study's own cases and models, never ranked with ours."),
      el("p", {}, R.title, " — ", R.source.report, ` (arXiv ${R.source.arxiv}, ${R.source.year})`),
      el("p", {class: "note"}, `score: ${R.kind}; ${R.formula}`), table,
      el("ul", {class: "caveats"}, R.caveats.map((c) => el("li", {}, c))));
  }

  // ------------------------------------------------------------------ tested findings (score.findings)
  async function viewFindings() {
    const token = routeToken, F = store.summary.findings;
    if (!F) return main(el("h1", {}, "Findings"), el("p", {}, "No findings in this site (built with --no-findings, or by a fourfold without score.findings)."));
    const rows = await loadIndex();
    if (token !== routeToken) return;
    const byId = new Map(rows.map((r, i) => [r[0], i]));
    const num = (x, d) => (x === null || x === undefined ? "—" : x.toFixed(d));
    const item = (f) => el("li", {class: `finding finding-${f.kind}`, "data-verdict": f.verdict},
      el("div", {class: "statement"}, f.statement),
      el("div", {class: "finding-stats"}, `effect ${num(f.effect, 1)} points · 95% interval ${f.interval ? f.interval.map((x) => x.toFixed(1)).join(" to ") : "—"}`
        + ` · p ${num(f.p, 4)} (Holm ${num(f.p_holm, 4)}) · n=${f.n}`),
      f.cases.length ? el("div", {class: "finding-cases"}, `cases (${f.cases.length}): `,
        f.cases.slice(0, 30).map((id) => (byId.has(id) ? [el("a", {href: `#/case/${byId.get(id)}`}, id), " "] : [id, " "])),
        f.cases.length > 30 ? "…" : "") : null);
    const section = (title, list, id) => el("section", {id}, el("h2", {}, `${title} (${list.length})`),
      list.length ? el("ul", {class: "findings"}, list.map(item)) : el("p", {}, "None."));
    main(el("h1", {}, "Findings"),
      el("p", {class: "note"}, `Paired tests on per-case outcomes with Holm correction over ${F.holm_family} test(s) at α = ${F.alpha}; `
        + `comparisons over fewer than ${F.min_n} cases are not tested.`),
      section("Claims the data supports", F.claims, "claims"), section("Not enough to tell", F.cannot_tell, "cannot-tell"),
      section("Described, not tested", F.described, "described"));
  }

  function notFound(what) { main(el("h1", {}, "Not found"), el("p", {}, what), link("back to the leaderboards", "")); }

  // ------------------------------------------------------------------ routing
  async function route() {
    routeToken++;
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").map(decodeURIComponent);
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${parts[0]}`));
    try {
      if (parts[0] === "" ) viewBoards();
      else if (parts[0] === "radar") viewRadar(params);
      else if (parts[0] === "cell") viewCell(parts.slice(1).join("/"));
      else if (parts[0] === "cases") await viewCases(params);
      else if (parts[0] === "case") await viewCase(Number(parts[1]));
      else if (parts[0] === "compare") await viewCompare(params);
      else if (parts[0] === "reference") viewReference();
      else if (parts[0] === "findings") await viewFindings();
      else notFound(`no page ${path}`);
    } catch (e) {
      main(el("h1", {}, "Could not show this page"), el("p", {class: "missing"}, String(e && e.message || e)));
    }
    document.body.dataset.ready = String(routeToken);
  }
  async function start() {
    await load("summary", 0);
    renderMeta();
    document.getElementById("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      location.hash = hashFor("cases", {q: document.getElementById("search").value});
    });
    window.addEventListener("hashchange", route);
    await route();
    loadIndex();  // the rest of the index in the background: later pages open at once
  }
  start().catch((e) => main(el("h1", {}, "Could not load the data"), el("p", {}, String(e && e.message || e))));
})();
