// DatacenterOs dashboard. Pages are rendered on the server; this script makes them live:
// - connects to /hubs/cluster, subscribes to the topics the page names (data-live-topics) and, when one changes,
//   fetches the page again and swaps <main> (deferred while the user is typing in a field of the page);
// - draws the allocation chart (Chart.js), the job DAG (Graphviz via viz.js) and follows task logs.
(function () {
  "use strict";
  const dcos = (window.dcos = window.dcos || {});
  dcos.refreshes = 0;

  function topics() {
    const el = document.querySelector("[data-live-topics]");
    return el ? el.getAttribute("data-live-topics").split(/\s+/).filter((t) => t) : [];
  }

  function badge(text, css) {
    const b = document.getElementById("dcos-live");
    if (b) { b.textContent = text; b.className = "badge " + css; }
  }

  // ---- Refresh on push ------------------------------------------------------------------------------------------
  let busy = false, pending = false;
  function editing() {
    const a = document.activeElement;
    const main = document.getElementById("dcos-main");
    return a && main && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName) && a.type !== "submit";
  }

  async function refresh() {
    if (busy || editing()) { pending = true; return; }
    busy = true;
    dcos.busy = true;
    try {
      const response = await fetch(location.href, { headers: { "X-Dcos-Refresh": "1" }, cache: "no-store" });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const next = doc.getElementById("dcos-main");
      const current = document.getElementById("dcos-main");
      if (!next || !current) return;
      // The user started typing while the page was fetched: keep what they typed, refresh after.
      if (editing()) { pending = true; return; }
      const open = [...current.querySelectorAll("details[open][id]")].map((d) => d.id);
      // The outcome of the last action stays until the next navigation.
      current.querySelectorAll("[data-keep][id]").forEach((kept) => {
        const slot = next.querySelector("#" + CSS.escape(kept.id));
        if (slot && !slot.innerHTML.trim()) slot.replaceWith(kept);
      });
      const scroll = window.scrollY;
      current.replaceWith(next);
      open.forEach((id) => { const d = document.getElementById(id); if (d) d.open = true; });
      if (doc.title) document.title = doc.title;
      window.scrollTo(0, scroll);
      dcos.refreshes++;
      init();
    } catch (e) {
      // offline for a moment: the next push retries
    } finally {
      busy = false;
      dcos.busy = false;
      if (pending) { pending = false; setTimeout(refresh, 50); }
    }
  }
  document.addEventListener("focusout", () => { if (pending) setTimeout(refresh, 50); });

  function connectHub() {
    if (!window.signalR) { badge("no live updates", "text-bg-secondary"); return; }
    const wanted = topics();
    const connection = new signalR.HubConnectionBuilder().withUrl("/hubs/cluster").withAutomaticReconnect().build();
    connection.on("changed", (e) => { dcos.lastChange = e; if (wanted.includes(e.topic)) refresh(); });
    connection.on("allocation", (s) => { dcos.lastSample = s; addSample(s); });
    const subscribe = () => connection.invoke("Subscribe", wanted.concat(document.getElementById("allocation-chart") ? ["allocation"] : []));
    connection.onreconnecting(() => badge("reconnecting…", "text-bg-warning"));
    connection.onreconnected(() => { badge("live", "text-bg-success"); subscribe(); refresh(); });
    connection.onclose(() => badge("offline", "text-bg-danger"));
    connection.start()
      .then(subscribe)
      .then(() => {
        badge("live", "text-bg-success");
        dcos.connected = true;
        // Changes between rendering this page and subscribing were not pushed to it: look once now.
        if (wanted.length > 0) refresh();
      })
      .catch(() => badge("offline", "text-bg-danger"));
    dcos.hub = connection;
  }

  // ---- Allocation chart -----------------------------------------------------------------------------------------
  function pct(used, total) { return total > 0 ? Math.round((used / total) * 1000) / 10 : 0; }
  function chart() {
    const canvas = document.getElementById("allocation-chart");
    const data = document.getElementById("allocation-data");
    if (!canvas || !data || !window.Chart) return null;
    const d = JSON.parse(data.textContent || "{}");
    let c = Chart.getChart(canvas);
    if (!c) {
      c = new Chart(canvas, {
        type: "line",
        data: { labels: [], datasets: [
          { label: "cpus %", data: [], borderColor: "#0d6efd", pointRadius: 0, tension: 0.2 },
          { label: "mem %", data: [], borderColor: "#198754", pointRadius: 0, tension: 0.2 },
          { label: "disk %", data: [], borderColor: "#fd7e14", pointRadius: 0, tension: 0.2 },
        ] },
        options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } },
      });
    }
    c.data.labels = (d.t || []).map((t) => new Date(t).toLocaleTimeString());
    c.data.datasets[0].data = d.cpus || [];
    c.data.datasets[1].data = d.mem || [];
    c.data.datasets[2].data = d.disk || [];
    c.update("none");
    return c;
  }
  function addSample(s) {
    const canvas = document.getElementById("allocation-chart");
    const c = canvas && window.Chart ? Chart.getChart(canvas) : null;
    if (!c) return;
    c.data.labels.push(new Date(s.at).toLocaleTimeString());
    c.data.datasets[0].data.push(pct(s.used.cpus, s.total.cpus));
    c.data.datasets[1].data.push(pct(s.used.mem, s.total.mem));
    c.data.datasets[2].data.push(pct(s.used.disk, s.total.disk));
    while (c.data.labels.length > 600) { c.data.labels.shift(); c.data.datasets.forEach((x) => x.data.shift()); }
    c.update("none");
  }

  // ---- DAG ------------------------------------------------------------------------------------------------------
  let viz = null;
  async function dag() {
    const el = document.querySelector("[data-dot-source]");
    if (!el || !window.Viz) return;
    const source = document.getElementById(el.getAttribute("data-dot-source"));
    if (!source || !source.textContent.trim()) return;
    viz = viz || Viz.instance();
    const svg = (await viz).renderSVGElement(source.textContent);
    el.replaceChildren(svg);
    el.dataset.rendered = "true";
  }

  // ---- Logs -----------------------------------------------------------------------------------------------------
  let follow = null;
  function logs() {
    if (follow) { clearInterval(follow); follow = null; }
    const pre = document.querySelector("[data-follow-url]");
    if (!pre) return;
    let url = pre.getAttribute("data-follow-url");
    pre.scrollTop = pre.scrollHeight;
    follow = setInterval(async () => {
      const toggle = document.querySelector("[data-follow-toggle]");
      if (toggle && !toggle.checked) return;
      try {
        const r = await fetch(url, { cache: "no-store" });
        if (!r.ok) return;
        const chunk = await r.json();
        if (chunk.data) { pre.append(document.createTextNode(chunk.data)); pre.scrollTop = pre.scrollHeight; }
        url = url.replace(/offset=\d+/, "offset=" + chunk.offset);
      } catch (e) { /* agent unreachable for a moment */ }
    }, 1000);
  }

  // ---- Filters submit as you type -------------------------------------------------------------------------------
  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
      let timer = null;
      form.querySelectorAll("input, select").forEach((input) => {
        input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => {
          clearTimeout(timer);
          timer = setTimeout(() => form.requestSubmit(), input.tagName === "SELECT" ? 0 : 400);
        });
      });
    });
  }

  function init() { chart(); dag(); logs(); autosubmit(); }
  dcos.refresh = refresh;

  function start() { init(); connectHub(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
