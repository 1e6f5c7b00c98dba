// The overview as a SOC wall screen: counter tiles, alerts and new incidents per hour,
// top sources, ports, signatures, agencies and systems, the ATT&CK heat map and the
// sensors' drop rates. Every item links to the queue filtered by it. `?kiosk=1` hides
// the console's bar, fills a 1920×1080 screen and refreshes itself every minute.
'use strict';

const W = {
  en: {
    tile_open: 'Open', tile_unack: 'Not acknowledged', tile_hc: 'High and critical', tile_overdue: 'Overdue',
    tile_tta: 'Time to acknowledge', tile_ttr: 'Time to resolve', median_month: 'median this month', of_n: 'of', none_yet: 'none yet',
    range_24h: '24 hours', range_7d: '7 days', range_30d: '30 days', range_custom: 'Custom', per_hour: 'Alerts and new incidents per hour',
    per_day: 'Alerts and new incidents per day', alerts_line: 'Alerts', new_incidents_bar: 'New incidents', top_sources: 'Top sources',
    top_ports: 'Top destination ports', top_systems: 'Most targeted systems', attack_map: 'ATT&CK: tactic × technique (incidents)',
    kiosk: 'Wall screen', exit_kiosk: 'Leave wall screen', internal: 'internal', updated: 'Updated', sensors_health: 'Sensors',
    no_activity: 'Nothing in the chosen period; showing the same length up to the newest activity:', drop_rate: 'drops',
    incidents_n: 'incident', alerts_n: 'alerts',
  },
  vi: {
    tile_open: 'Đang mở', tile_unack: 'Chưa tiếp nhận', tile_hc: 'Mức cao và nghiêm trọng', tile_overdue: 'Quá hạn',
    tile_tta: 'Thời gian tiếp nhận', tile_ttr: 'Thời gian xử lý', median_month: 'trung vị tháng này', of_n: 'trên', none_yet: 'chưa có',
    range_24h: '24 giờ', range_7d: '7 ngày', range_30d: '30 ngày', range_custom: 'Tùy chọn', per_hour: 'Cảnh báo và sự cố mới theo giờ',
    per_day: 'Cảnh báo và sự cố mới theo ngày', alerts_line: 'Cảnh báo', new_incidents_bar: 'Sự cố mới', top_sources: 'Nguồn tấn công nhiều nhất',
    top_ports: 'Cổng đích bị nhắm nhiều nhất', top_systems: 'Hệ thống bị nhắm nhiều nhất', attack_map: 'ATT&CK: chiến thuật × kỹ thuật (số sự cố)',
    kiosk: 'Màn hình giám sát', exit_kiosk: 'Thoát màn hình giám sát', internal: 'nội bộ', updated: 'Cập nhật', sensors_health: 'Cảm biến',
    no_activity: 'Không có hoạt động trong khoảng đã chọn; hiển thị khoảng cùng độ dài tới hoạt động gần nhất:', drop_rate: 'mất gói',
    incidents_n: 'sự cố', alerts_n: 'cảnh báo',
  },
};
function tw(k) { return (W[state.lang] || W.en)[k] || t(k); }

// The queue filtered by `filters`, over the period shown (any status).
function queueLink(filters, period) {
  const p = new URLSearchParams({ status: '', ...filters });
  if (period) { p.set('from', period.from); p.set('to', period.to); }
  return '#/incidents?' + p.toString();
}

async function overviewPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const kiosk = params.get('kiosk') === '1';
  document.body.classList.toggle('kiosk', kiosk);
  const q = new URLSearchParams();
  for (const k of ['range', 'from', 'to']) if (params.get(k)) q.set(k, params.get(k));
  let [wall, sensors] = await Promise.all([api('GET', '/api/v1/wall?' + q), api('GET', '/api/v1/sensors')]);
  let note = null;
  // Nothing in the period: the same length up to the newest activity, said so.
  if (wall.newest_activity && wall.newest_activity < wall.from && !params.get('from')) {
    const len = Date.parse(wall.to) - Date.parse(wall.from);
    const to = new Date(Math.ceil((Date.parse(wall.newest_activity) + 1) / 60000) * 60000);
    wall = await api('GET', `/api/v1/wall?from=${encodeURIComponent(new Date(+to - len).toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
    note = h('p', { class: 'muted', id: 'overview-period' }, `${tw('no_activity')} ${fmtTime(wall.from)} – ${fmtTime(wall.to)}`);
  }
  const period = { from: wall.from, to: wall.to };
  const top = kiosk ? 6 : 10;
  render(h('div', { class: 'wall' + (kiosk ? ' kiosk' : ''), id: 'wall' },
    wallHeader(params, kiosk), note,
    wallTiles(wall.tiles),
    h('div', { class: 'panel chart' }, h('h2', {}, tw(wall.bucket_secs >= 86400 ? 'per_day' : 'per_hour')), perBucketChart(wall, kiosk), chartLegend()),
    h('div', { class: 'wall-grid' },
      wallPanel('top_sources', 'sources', wall.top_sources.slice(0, top).map((x) => ({
        label: x.ip, note: x.internal ? tw('internal') : x.country || '', count: x.alerts, href: queueLink({ asset: x.ip }, period), mono: true,
      }))),
      wallPanel('top_ports', 'ports', wall.top_ports.slice(0, top).map((x) => ({ label: x.label, count: x.count, href: queueLink({ port: x.key.split('/')[0] }, period), mono: true }))),
      wallPanel('top_signatures', 'signatures', wall.top_signatures.slice(0, top).map((x) => ({ label: x.label, note: x.key, count: x.count, href: queueLink({ rule: x.key }, period) }))),
      wallPanel('top_agencies', 'agencies', wall.top_agencies.slice(0, top).map((x) => ({ label: x.label, count: x.count, href: queueLink({ agency: x.key }, period) }))),
      wallPanel('top_systems', 'systems', wall.top_systems.slice(0, top).map((x) => ({ label: x.label, count: x.count, href: queueLink({ system: x.key }, period) }))),
      h('div', { class: 'panel' }, h('h2', {}, tw('sensors_health')), sensorHealth(sensors))),
    h('div', { class: 'panel' }, h('h2', {}, tw('attack_map')), attackMap(wall, period, kiosk))));
  scheduleWallRefresh(kiosk);
}

// A wall screen left open reloads itself every minute (live events reload it sooner).
function scheduleWallRefresh(kiosk) {
  clearTimeout(state.wallTimer);
  state.wallTimer = setTimeout(() => { if (location.hash.startsWith('#/overview')) route(true); }, kiosk ? 60000 : 300000);
}

function wallHeader(params, kiosk) {
  const range = params.get('from') ? 'custom' : params.get('range') || '24h';
  const go = (p) => { if (kiosk) p.set('kiosk', '1'); location.hash = '#/overview?' + p.toString(); };
  const from = h('input', { type: 'date', id: 'wall-from', value: (params.get('from') || '').slice(0, 10) });
  const to = h('input', { type: 'date', id: 'wall-to', value: (params.get('to') || '').slice(0, 10) });
  const chips = ['24h', '7d', '30d'].map((r) => h('button', { type: 'button', class: range === r ? 'on' : '', 'data-range': r, on: { click: () => go(new URLSearchParams({ range: r })) } }, tw('range_' + r)));
  const custom = h('span', { class: 'custom' }, tw('range_custom'), from, '–', to,
    h('button', { type: 'button', id: 'wall-apply', on: { click: () => { if (from.value && to.value) go(new URLSearchParams({ from: from.value, to: to.value })); } } }, t('apply')));
  const kioskLink = kiosk
    ? h('button', { type: 'button', id: 'kiosk-exit', on: { click: () => { const p = new URLSearchParams(params); p.delete('kiosk'); location.hash = '#/overview?' + p.toString(); } } }, tw('exit_kiosk'))
    : h('button', { type: 'button', id: 'kiosk-enter', on: { click: () => { const p = new URLSearchParams(params); p.set('kiosk', '1'); location.hash = '#/overview?' + p.toString(); } } }, tw('kiosk'));
  return h('div', { class: 'wall-head' }, h('h1', {}, t('overview')), h('div', { class: 'chips' }, ...chips, custom),
    h('span', { class: 'spacer' }), h('span', { class: 'muted', id: 'wall-updated' }, `${tw('updated')} ${fmtTime(new Date().toISOString())}`), kioskLink);
}

// `1 incident`, `2 incidents`; Vietnamese has no plural.
function countOf(n) { return `${fmtNum(n)} ${tw('incidents_n')}${state.lang === 'en' && n !== 1 ? 's' : ''}`; }

function wallTiles(x) {
  const span = (secs) => (secs === null || secs === undefined ? tw('none_yet') : fmtSpan(secs * 1000));
  const tile = (id, label, value, href, cls, sub) => h('a', { class: 'tile ' + (cls || ''), id: 'tile-' + id, 'data-tile': id, href },
    h('span', { class: 'v' }, value), h('span', { class: 'l' }, label), sub ? h('span', { class: 'sub' }, sub) : null);
  return h('div', { class: 'tiles', id: 'tiles' },
    tile('open', tw('tile_open'), fmtNum(x.open), '#/incidents?status=open'),
    tile('unacknowledged', tw('tile_unack'), fmtNum(x.unacknowledged), '#/incidents?status=new', x.unacknowledged ? 'warn' : ''),
    tile('high_critical', tw('tile_hc'), fmtNum(x.high_critical), '#/incidents?status=open&severity=critical,high', x.high_critical ? 'alarm' : ''),
    tile('overdue', tw('tile_overdue'), fmtNum(x.overdue), '#/incidents?status=open&overdue=1', x.overdue ? 'alarm' : ''),
    tile('tta', tw('tile_tta'), span(x.tta_median_secs), '#/reports', '', `${tw('median_month')} · ${countOf(x.acknowledged)}`),
    tile('ttr', tw('tile_ttr'), span(x.ttr_median_secs), '#/reports', '', `${tw('median_month')} · ${countOf(x.resolved)}`));
}

function chartLegend() {
  const line = h('i', { class: 'line' });
  return h('div', { class: 'legend' }, ...SEVERITIES.map((k) => { const sw = h('i'); sw.style.background = SEV_COLORS[k]; return h('span', {}, sw, `${tw('new_incidents_bar')}: ${t(k)}`); }),
    h('span', {}, line, tw('alerts_line')));
}

// New incidents as stacked bars (left scale), alerts as a line (right scale); a click
// on a bucket opens the queue of the incidents active in it.
function perBucketChart(wall, kiosk) {
  const b = wall.buckets;
  // Wider on a wall screen: the same height in pixels leaves room for the lists.
  const Wd = kiosk ? 2000 : 1200, H = 170, left = 34, right = 44;
  const maxI = Math.max(1, ...b.map((x) => x.critical + x.high + x.medium + x.low));
  const maxA = Math.max(1, ...b.map((x) => x.alerts));
  const bw = (Wd - left - right) / Math.max(1, b.length);
  const svg = s('svg', { viewBox: `0 0 ${Wd} ${H + 22}`, width: '100%', role: 'img', id: 'chart-per-hour', 'aria-label': tw('per_hour') });
  svg.append(s('line', { x1: left, y1: H, x2: Wd - right, y2: H, stroke: '#999' }));
  svg.append(s('text', { x: 0, y: 12, 'font-size': 11, fill: '#555' }, fmtNum(maxI)));
  svg.append(s('text', { x: Wd - right + 4, y: 12, 'font-size': 11, fill: '#1d4e89' }, fmtNum(maxA)));
  const day = wall.bucket_secs >= 86400;
  const fmt = new Intl.DateTimeFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB', day ? { timeZone: TZ, day: '2-digit', month: '2-digit' } : { timeZone: TZ, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit' });
  const every = Math.max(1, Math.ceil(b.length / 12));
  const points = [];
  b.forEach((x, i) => {
    const x0 = left + i * bw;
    const end = new Date(Date.parse(x.start) + wall.bucket_secs * 1000).toISOString();
    const a = s('a', { href: queueLink({}, { from: x.start, to: end }), 'data-bucket': x.start });
    a.append(s('rect', { x: x0, y: 0, width: bw, height: H, fill: 'transparent' }));
    let y = H;
    for (const k of ['low', 'medium', 'high', 'critical']) {
      const hgt = (x[k] / maxI) * (H - 14);
      if (hgt > 0) a.append(s('rect', { x: x0 + 0.5, y: y - hgt, width: Math.max(1, bw - 1), height: hgt, fill: SEV_COLORS[k] }));
      y -= hgt;
    }
    a.append(s('title', {}, `${fmt.format(new Date(x.start))}: ${fmtNum(x.alerts)} ${tw('alerts_n')}, ${countOf(x.critical + x.high + x.medium + x.low)}`));
    svg.append(a);
    points.push(`${x0 + bw / 2},${H - (x.alerts / maxA) * (H - 14)}`);
    if (i % every === 0) svg.append(s('text', { x: x0, y: H + 16, 'font-size': 10, fill: '#555' }, fmt.format(new Date(x.start))));
  });
  svg.append(s('polyline', { points: points.join(' '), fill: 'none', stroke: '#1d4e89', 'stroke-width': 1.5, 'pointer-events': 'none', id: 'alerts-line' }));
  return svg;
}

// A top list: label (never cut: it wraps), a note, a bar and the count; each a link.
function wallPanel(title, id, items) {
  const max = Math.max(1, ...items.map((x) => x.count));
  const list = items.length ? h('div', { class: 'bars', id: 'bars-' + id }, ...items.map((x) => {
    const bar = h('span', { class: 'b' });
    bar.style.width = `${Math.max(2, (x.count / max) * 100)}%`;
    return h('a', { class: 'bar', href: x.href, 'data-key': x.label },
      h('span', { class: 'l' + (x.mono ? ' mono' : '') }, x.label, x.note ? h('span', { class: 'muted' }, ` ${x.note}`) : null),
      h('span', { class: 'track' }, bar), h('span', { class: 'n' }, fmtNum(x.count)));
  })) : h('p', { class: 'muted' }, '—');
  return h('div', { class: 'panel' }, h('h2', {}, tw(title)), list);
}

function sensorHealth(sensors) {
  if (!sensors.length) return h('p', { class: 'muted' }, '—');
  return h('div', { class: 'bars', id: 'wall-sensors' }, ...sensors.map((x) => {
    const state_ = x.up === true ? t('up') : x.up === false ? t('down') : x.reads_files ? t('read_files') : t('unknown');
    const rate = x.drop_rate === null || x.drop_rate === undefined ? '' : `${fmtPct(x.drop_rate)} ${tw('drop_rate')}`;
    return h('a', { class: 'bar sensor' + (x.up === false ? ' down' : ''), href: '#/sensors', 'data-sensor': x.name },
      h('span', { class: 'l mono' }, x.name), h('span', { class: 'muted' }, state_), h('span', { class: 'n' }, rate));
  }));
}

// An ATT&CK matrix: a column per tactic seen, in kill-chain order; in each, its
// techniques, darker with more incidents, each linking to the queue of that technique
// (or tactic) in the period.
function attackMap(wall, period, kiosk) {
  const cells = wall.attack_named;
  if (!cells.length) return h('p', { class: 'muted' }, '—');
  const max = Math.max(1, ...cells.map((c) => c.incidents));
  const tactics = wall.tactics.filter(([id]) => cells.some((c) => c.tactic === id));
  const cell = (c) => {
    const a = h('a', { class: 'cell', href: queueLink(c.technique ? { technique: c.technique } : { tactic: c.tactic }, period), 'data-technique': c.technique || c.tactic },
      h('b', {}, c.technique || '—'), h('span', { class: 'n' }, fmtNum(c.incidents)), h('div', {}, c.technique_name || ''));
    const k = c.incidents / max;
    a.style.background = `rgba(179, 38, 30, ${0.12 + 0.78 * k})`;
    if (k > 0.5) a.style.color = '#fff';
    return a;
  };
  return h('table', { class: 'attack', id: 'attack-map' },
    h('thead', {}, h('tr', {}, ...tactics.map(([id, name]) => h('th', { 'data-tactic': id }, en('tactic', id) || name, h('div', { class: 'muted' }, id))))),
    h('tbody', {}, h('tr', {}, ...tactics.map(([id]) => h('td', {}, ...cells.filter((c) => c.tactic === id).slice(0, kiosk ? 4 : 12).map(cell))))));
}
