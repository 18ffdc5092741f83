// The AppHost dashboard: resources, console logs and replication metrics, from the AppHost's /api.
const $ = (id) => document.getElementById(id);
const pages = ['resources', 'console', 'metrics'];
const state = { resources: [], selected: null, consoleSource: null, replication: [], metrics: [], lastReplication: 0, lastMetrics: 0 };

function showPage() {
  const page = pages.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'resources';
  for (const p of pages) {
    $(`page-${p}`).hidden = p !== page;
    document.querySelector(`nav a[data-page="${p}"]`).classList.toggle('active', p === page);
  }
  if (page === 'console') openConsole();
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

async function refreshResources() {
  const reveal = $('reveal').checked;
  const response = await fetch(`/api/resources?reveal=${reveal}`);
  state.resources = await response.json();
  const body = $('resources');
  body.replaceChildren(...state.resources.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = `resource-${r.name}`;
    tr.append(cell(r.name), cell(r.type), cell(r.state, `state-${r.state}`), cell(r.health, `health-${r.health}`),
      cell(r.startTime ? new Date(r.startTime).toLocaleTimeString() : ''), cell(r.pid));
    const where = cell('');
    for (const e of r.endpoints) {
      const a = document.createElement('a');
      a.href = e.url; a.textContent = e.url; a.target = '_blank'; a.rel = 'noopener';
      where.append(a, document.createElement('br'));
    }
    if (r.connectionString) where.append(Object.assign(document.createElement('code'), { textContent: r.connectionString }));
    tr.append(where);
    const actions = cell('');
    if (r.type === 'Project' || r.type === 'Postgres') {
      for (const command of ['restart', 'stop', 'start']) {
        const b = Object.assign(document.createElement('button'), { textContent: command, type: 'button' });
        b.dataset.testid = `${command}-${r.name}`;
        b.addEventListener('click', async (ev) => { ev.stopPropagation(); await fetch(`/api/resources/${r.name}/${command}`, { method: 'POST' }); });
        actions.append(b, ' ');
      }
      const logs = Object.assign(document.createElement('button'), { textContent: 'logs', type: 'button' });
      logs.dataset.testid = `logs-${r.name}`;
      logs.addEventListener('click', (ev) => { ev.stopPropagation(); $('console-resource').value = r.name; location.hash = 'console'; });
      actions.append(logs);
    }
    tr.append(actions);
    tr.addEventListener('click', () => { state.selected = r.name; renderDetails(); });
    return tr;
  }));
  const select = $('console-resource');
  if (select.options.length !== state.resources.length) {
    const current = select.value;
    select.replaceChildren(...state.resources.map((r) => new Option(r.name, r.name)));
    if (current) select.value = current;
  }
  renderDetails();
}

function renderDetails() {
  const r = state.resources.find((x) => x.name === state.selected);
  const details = $('details');
  details.hidden = !r;
  if (!r) return;
  const rows = [['State', `${r.state}${r.message ? ` — ${r.message}` : ''}`], ['Waits for', r.waitsFor.join(', ') || '—'], ['Exit code', r.exitCode ?? '—'],
    ...Object.entries(r.environment).map(([k, v]) => [k, v])];
  const table = document.createElement('table');
  table.append(...rows.map(([k, v]) => { const tr = document.createElement('tr'); tr.append(cell(k), cell(String(v))); return tr; }));
  details.replaceChildren(Object.assign(document.createElement('h2'), { textContent: r.name }), table);
}

function openConsole() {
  const name = $('console-resource').value || state.resources[0]?.name;
  if (!name || state.consoleSource?.name === name) return;
  state.consoleSource?.close();
  const pre = $('console-lines');
  pre.replaceChildren();
  const source = new EventSource(`/api/resources/${encodeURIComponent(name)}/logs/stream`);
  source.name = name;
  source.onmessage = (event) => {
    const line = JSON.parse(event.data);
    const span = document.createElement('span');
    span.textContent = `${line.content.replace(/\u001b\[[0-9;]*m/g, '')}\n`;
    if (line.isError) span.className = 'err';
    span.hidden = !matchesFilter(span.textContent);
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
    pre.append(span);
    while (pre.childElementCount > 10000) pre.firstElementChild.remove();
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
  state.consoleSource = source;
}

function matchesFilter(text) {
  const filter = $('console-filter').value.trim().toLowerCase();
  return !filter || text.toLowerCase().includes(filter);
}

function applyFilter() {
  for (const span of $('console-lines').children) span.hidden = !matchesFilter(span.textContent);
}

const palette = ['#58a6ff', '#3fb950', '#d29922', '#f778ba', '#a371f7', '#f85149', '#39c5cf'];

function drawChart(canvas, seriesMap, format = (v) => v.toFixed(0)) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width; const h = canvas.height; const pad = 40;
  ctx.clearRect(0, 0, w, h);
  const all = [...seriesMap.values()].flat();
  // What the chart shows, for people using assistive tech and for browser tests: the newest value and the peak per series.
  canvas.dataset.latest = JSON.stringify(Object.fromEntries([...seriesMap].map(([k, pts]) => [k, pts.at(-1)?.v ?? 0])));
  canvas.dataset.peak = JSON.stringify(Object.fromEntries([...seriesMap].map(([k, pts]) => [k, Math.max(0, ...pts.map((p) => p.v))])));
  canvas.setAttribute('aria-label', [...seriesMap].map(([k, pts]) => `${k}: ${format(pts.at(-1)?.v ?? 0)}`).join('; '));
  const now = Date.now(); const t0 = now - 5 * 60 * 1000;
  const max = Math.max(1, ...all.map((p) => p.v));
  ctx.strokeStyle = '#2d3640'; ctx.fillStyle = '#8a96a3'; ctx.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const y = h - pad / 2 - (i / 4) * (h - pad);
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText(format((max * i) / 4), 2, y + 4);
  }
  let i = 0;
  for (const [name, points] of seriesMap) {
    ctx.strokeStyle = palette[i % palette.length]; ctx.fillStyle = ctx.strokeStyle; ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.filter((p) => p.t >= t0).forEach((p, k) => {
      const x = pad + ((p.t - t0) / (now - t0)) * (w - pad);
      const y = h - pad / 2 - (p.v / max) * (h - pad);
      if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillText(name.length > 60 ? `${name.slice(0, 57)}…` : name, pad + 4, 12 + 12 * i);
    i++;
  }
}

const bytes = (v) => (v >= 1 << 30 ? `${(v / (1 << 30)).toFixed(1)} GiB` : v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(0)} KiB` : `${v | 0} B`);

async function refreshMetrics() {
  const [replication, metrics] = await Promise.all([
    fetch(`/api/replication?since=${state.lastReplication}`).then((r) => r.json()),
    fetch(`/api/metrics?since=${state.lastMetrics}`).then((r) => r.json()),
  ]);
  state.replication.push(...replication);
  state.metrics.push(...metrics);
  const horizon = Date.now() - 10 * 60 * 1000;
  state.replication = state.replication.filter((s) => Date.parse(s.time) >= horizon);
  state.metrics = state.metrics.filter((p) => Date.parse(p.time) >= horizon);
  if (replication.length) state.lastReplication = Date.parse(replication.at(-1).time);
  if (metrics.length) state.lastMetrics = Date.parse(metrics.at(-1).time);

  const lagBytes = new Map(); const lagSeconds = new Map(); const walRate = new Map();
  for (const sample of state.replication) {
    const t = Date.parse(sample.time);
    if (!walRate.has(sample.server)) walRate.set(sample.server, []);
    walRate.get(sample.server).push({ t, v: sample.walBytesPerSecond });
    for (const slot of sample.slots) {
      if (!lagBytes.has(slot.slotName)) { lagBytes.set(slot.slotName, []); lagSeconds.set(slot.slotName, []); }
      lagBytes.get(slot.slotName).push({ t, v: slot.lagBytes ?? 0 });
      lagSeconds.get(slot.slotName).push({ t, v: slot.replyLagSeconds ?? 0 });
    }
  }
  drawChart($('chart-lag-bytes'), lagBytes, bytes);
  drawChart($('chart-lag-seconds'), lagSeconds, (v) => `${v.toFixed(2)} s`);
  drawChart($('chart-wal-rate'), walRate, (v) => `${bytes(v)}/s`);

  const latest = state.replication.at(-1);
  const slots = latest ? latest.slots : [];
  $('slots').replaceChildren(...slots.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = `slot-${s.slotName}`;
    tr.append(cell(s.slotName), cell(s.database), cell(s.active ? 'active' : 'INACTIVE', s.active ? 'health-Healthy' : 'health-Unhealthy'),
      cell(s.walStatus), cell(s.safeWalSizeBytes == null ? '—' : bytes(s.safeWalSizeBytes)), cell(bytes(s.lagBytes ?? 0)), cell(bytes(s.retainedBytes ?? 0)));
    return tr;
  }));
  $('slot-alerts').replaceChildren(...slots.filter((s) => !s.active).map((s) => Object.assign(document.createElement('div'), {
    className: 'alert',
    textContent: `Slot ${s.slotName} has no active consumer and retains ${bytes(s.retainedBytes ?? 0)} of WAL (wal_status ${s.walStatus}${s.safeWalSizeBytes == null ? '' : `, ${bytes(s.safeWalSizeBytes)} until it is invalidated`}).`,
  })));

  const byFamily = new Map();
  for (const p of state.metrics) {
    const family = p.series.split('{')[0];
    if (!byFamily.has(family)) byFamily.set(family, new Map());
    const key = `${p.resource} ${p.series.includes('{') ? p.series.slice(p.series.indexOf('{')) : ''}`;
    if (!byFamily.get(family).has(key)) byFamily.get(family).set(key, []);
    byFamily.get(family).get(key).push({ t: Date.parse(p.time), v: p.value });
  }
  const container = $('service-charts');
  for (const [family, series] of byFamily) {
    const id = `svc-${family.replace(/[^a-z0-9]/gi, '-')}`;
    let canvas = document.getElementById(id);
    if (!canvas) {
      const figure = document.createElement('figure');
      canvas = Object.assign(document.createElement('canvas'), { id, width: 560, height: 180 });
      figure.append(Object.assign(document.createElement('figcaption'), { textContent: family }), canvas);
      container.append(figure);
    }
    drawChart(canvas, series, (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(2)));
  }
}

function every(ms, fn) {
  const run = async () => { try { await fn(); } catch { /* the AppHost may be stopping */ } setTimeout(run, ms); };
  run();
}

window.addEventListener('hashchange', showPage);
$('reveal').addEventListener('change', refreshResources);
$('console-resource').addEventListener('change', () => { state.consoleSource?.close(); state.consoleSource = null; openConsole(); });
$('console-filter').addEventListener('input', applyFilter);
every(1000, refreshResources);
every(1000, refreshMetrics);
showPage();
