// Gatewatch analyst console. Plain DOM (no framework, no CDN): every value from the
// server is put into the page with textContent, never parsed as HTML.
'use strict';

const TZ = 'Asia/Ho_Chi_Minh';
const T = {
  en: {
    queue: 'Incidents', overview: 'Overview', suppressions: 'Suppressions', sensors: 'Sensors', admin: 'Accounts',
    signin: 'Sign in', name: 'User name', password: 'Password', signout: 'Sign out', wrong: 'Wrong name or password',
    severity: 'Severity', score: 'Score', title: 'Incident', agency: 'Agency', asset: 'Asset', entity: 'Entity',
    first_seen: 'First seen', last_seen: 'Last seen', status: 'Status', assignee: 'Assignee', alerts: 'Alerts',
    any: 'any', open: 'open', all: 'all', search: 'Search', from: 'From', to: 'To', tactic: 'Tactic', sort: 'Sort',
    by_last_seen: 'newest activity', by_score: 'highest score', apply: 'Apply', clear: 'Clear',
    views: 'Saved views', save_view: 'Save view', view_name: 'Name of the view',
    page: 'Page', of: 'of', prev: 'Previous', next: 'Next', none: 'No incidents match.',
    acknowledge: 'Acknowledge', start: 'Start work', mark_false_positive: 'False positive', resolve: 'Resolve', reopen: 'Reopen',
    assign_me: 'Assign to me', assign: 'Assign', unassign: 'Unassign', add_note: 'Add note', note: 'Note',
    merge_into: 'Merge into incident #', merge: 'Merge',
    summary: 'Summary', timeline: 'Timeline', evidence: 'Evidence', hosts: 'Hosts', rules: 'Rules', notes: 'Notes',
    related: 'Related incidents', audit: 'Audit log', flows: 'Flows', files: 'Files',
    system: 'System', level: 'Security level', criticality: 'Criticality', rsit: 'Class (RSIT)', stages: 'ATT&CK stages',
    succeeded: 'Attack succeeded', yes: 'yes', no: 'no', created: 'Created', acknowledged_at: 'Acknowledged', resolved_at: 'Resolved',
    new: 'new', acknowledged: 'acknowledged', in_progress: 'in progress', resolved: 'resolved', false_positive: 'false positive',
    critical: 'critical', high: 'high', medium: 'medium', low: 'low',
    by_day: 'Incidents by day and severity (30 days)', by_status: 'Incidents by status', top_signatures: 'Top signatures',
    top_agencies: 'Most attacked agencies', open_now: 'Open incidents', sensor: 'Sensor', up: 'up', down: 'down', unknown: 'unknown',
    last_heartbeat: 'Last heartbeat', packets: 'Packets', drops: 'Drops', rules_gen: 'Rules', last_alert: 'Last alert',
    reason: 'Reason', source: 'Source', destination: 'Destination', sid: 'Signature id', expires: 'Expires', hits: 'Hits',
    created_by: 'Created by', add: 'Add', remove: 'Remove', days: 'days', removed: 'removed',
    users: 'Users', tokens: 'API tokens', role: 'Role', display_name: 'Display name', disabled: 'disabled', enable: 'Enable',
    disable: 'Disable', revoke: 'Revoke', token_once: 'Copy this token now; it is not shown again:', user: 'User',
    saved: 'Saved', changed_meanwhile: 'Someone changed this incident meanwhile; it was reloaded.',
    keys: 'Keys: j/k move, Enter opens, a acknowledges, / searches, r reloads, g o overview, g i incidents, ? help',
    new_incidents: 'Updated', no_recent: 'No incidents in the last 30 days; showing', protocol: 'Protocol', time: 'Time', kind: 'Kind', what: 'What', who: 'Who',
    hash: 'Hashes', filename: 'File name', size: 'Size', query: 'Query', answer: 'Answer', host: 'Host', url: 'URL', sni: 'SNI',
    blocks: 'Blocks', response: 'Automated response', target: 'Target', action: 'Action', policy: 'Policy', mode: 'Mode', state: 'State', incident: 'Incident',
    approve: 'Approve', deny: 'Deny', unblock: 'Unblock', decided_by: 'Decided by', no_blocks: 'No block decisions.', why: 'Why (kept in the audit log)',
    'executed': 'blocked', 'dry-run': 'dry-run', 'skipped-allowlist': 'allowlisted, not blocked', 'rate-limited': 'rate limit: awaits approval',
    'awaiting-approval': 'awaits approval', 'approved': 'approved', 'denied': 'denied', 'failed': 'failed', 'undoing': 'unblocking…', 'expired': 'expired', 'undone': 'unblocked', 'pending': 'blocking…',
    reports: 'Reports', month: 'Month', language: 'Language', format: 'Format', download: 'Download', kept_reports: 'Reports kept by the schedule', make_report: 'Make a report', province_wide: 'province-wide', no_reports: 'No report kept yet (the correlator writes last month\'s on the first day of each month).', scope: 'Scope', file: 'File',
    signature: 'Rule', token_name: 'Token name', password_changed: 'Password changed', last_used: 'Last used', revoked: 'Revoked',
    enforce: 'enforce', approve_mode: 'approve', tk_source: 'source', tk_destination: 'destination', tk_domain: 'domain', tk_host: 'host (quarantine)',
  },
  vi: {
    queue: 'Sự cố', overview: 'Tổng quan', suppressions: 'Loại trừ cảnh báo', sensors: 'Cảm biến', admin: 'Tài khoản',
    signin: 'Đăng nhập', name: 'Tên đăng nhập', password: 'Mật khẩu', signout: 'Đăng xuất', wrong: 'Sai tên đăng nhập hoặc mật khẩu',
    severity: 'Mức độ', score: 'Điểm', title: 'Sự cố', agency: 'Cơ quan', asset: 'Tài sản', entity: 'Đối tượng',
    first_seen: 'Thấy lần đầu', last_seen: 'Thấy lần cuối', status: 'Trạng thái', assignee: 'Người xử lý', alerts: 'Cảnh báo',
    any: 'tất cả', open: 'đang mở', all: 'tất cả', search: 'Tìm kiếm', from: 'Từ', to: 'Đến', tactic: 'Chiến thuật', sort: 'Sắp xếp',
    by_last_seen: 'hoạt động mới nhất', by_score: 'điểm cao nhất', apply: 'Áp dụng', clear: 'Xoá lọc',
    views: 'Bộ lọc đã lưu', save_view: 'Lưu bộ lọc', view_name: 'Tên bộ lọc',
    page: 'Trang', of: '/', prev: 'Trước', next: 'Sau', none: 'Không có sự cố nào phù hợp.',
    acknowledge: 'Tiếp nhận', start: 'Bắt đầu xử lý', mark_false_positive: 'Cảnh báo sai', resolve: 'Đã xử lý xong', reopen: 'Mở lại',
    assign_me: 'Giao cho tôi', assign: 'Giao', unassign: 'Bỏ giao', add_note: 'Thêm ghi chú', note: 'Ghi chú',
    merge_into: 'Gộp vào sự cố số', merge: 'Gộp',
    summary: 'Tóm tắt', timeline: 'Diễn biến', evidence: 'Bằng chứng', hosts: 'Máy liên quan', rules: 'Luật', notes: 'Ghi chú',
    related: 'Sự cố liên quan', audit: 'Nhật ký thao tác', flows: 'Luồng', files: 'Tệp',
    system: 'Hệ thống', level: 'Cấp độ an toàn', criticality: 'Mức quan trọng', rsit: 'Phân loại (RSIT)', stages: 'Giai đoạn ATT&CK',
    succeeded: 'Tấn công thành công', yes: 'có', no: 'không', created: 'Tạo lúc', acknowledged_at: 'Tiếp nhận lúc', resolved_at: 'Xử lý xong lúc',
    new: 'mới', acknowledged: 'đã tiếp nhận', in_progress: 'đang xử lý', resolved: 'đã xử lý', false_positive: 'cảnh báo sai',
    critical: 'nghiêm trọng', high: 'cao', medium: 'trung bình', low: 'thấp',
    by_day: 'Sự cố theo ngày và mức độ (30 ngày)', by_status: 'Sự cố theo trạng thái', top_signatures: 'Luật phát hiện nhiều nhất',
    top_agencies: 'Cơ quan bị tấn công nhiều nhất', open_now: 'Sự cố đang mở', sensor: 'Cảm biến', up: 'hoạt động', down: 'mất kết nối', unknown: 'chưa rõ',
    last_heartbeat: 'Tín hiệu gần nhất', packets: 'Gói tin', drops: 'Gói bị mất', rules_gen: 'Bộ luật', last_alert: 'Cảnh báo gần nhất',
    reason: 'Lý do', source: 'Nguồn', destination: 'Đích', sid: 'Mã luật', expires: 'Hết hạn', hits: 'Số lần khớp',
    created_by: 'Người tạo', add: 'Thêm', remove: 'Gỡ bỏ', days: 'ngày', removed: 'đã gỡ',
    users: 'Người dùng', tokens: 'Mã truy cập API', role: 'Vai trò', display_name: 'Tên hiển thị', disabled: 'đã khoá', enable: 'Mở khoá',
    disable: 'Khoá', revoke: 'Thu hồi', token_once: 'Hãy sao chép mã này ngay; mã sẽ không hiển thị lại:', user: 'Người dùng',
    saved: 'Đã lưu', changed_meanwhile: 'Sự cố vừa được người khác thay đổi; đã tải lại.',
    keys: 'Phím tắt: j/k di chuyển, Enter mở, a tiếp nhận, / tìm kiếm, r tải lại, g o tổng quan, g i sự cố, ? trợ giúp',
    new_incidents: 'Đã cập nhật', no_recent: 'Không có sự cố trong 30 ngày qua; hiển thị', protocol: 'Giao thức', time: 'Thời gian', kind: 'Loại', what: 'Nội dung', who: 'Người/nguồn',
    hash: 'Mã băm', filename: 'Tên tệp', size: 'Kích thước', query: 'Truy vấn', answer: 'Trả lời', host: 'Máy chủ', url: 'URL', sni: 'SNI',
    blocks: 'Chặn tự động', response: 'Phản ứng tự động', target: 'Đối tượng chặn', action: 'Hành động', policy: 'Chính sách', mode: 'Chế độ', state: 'Tình trạng', incident: 'Sự cố',
    approve: 'Phê duyệt', deny: 'Từ chối', unblock: 'Bỏ chặn', decided_by: 'Người quyết định', no_blocks: 'Chưa có quyết định chặn nào.', why: 'Lý do (ghi vào nhật ký)',
    'executed': 'đang chặn', 'dry-run': 'chạy thử', 'skipped-allowlist': 'thuộc danh sách cho phép, không chặn', 'rate-limited': 'vượt ngưỡng: chờ phê duyệt',
    'awaiting-approval': 'chờ phê duyệt', 'approved': 'đã phê duyệt', 'denied': 'đã từ chối', 'failed': 'thất bại', 'undoing': 'đang bỏ chặn…', 'expired': 'đã hết hạn', 'undone': 'đã bỏ chặn', 'pending': 'đang chặn…',
    reports: 'Báo cáo', month: 'Tháng', language: 'Ngôn ngữ', format: 'Định dạng', download: 'Tải về', kept_reports: 'Báo cáo đã lập theo lịch', make_report: 'Lập báo cáo', province_wide: 'toàn tỉnh/thành phố', no_reports: 'Chưa có báo cáo nào được lưu (hệ thống lập báo cáo tháng trước vào ngày đầu mỗi tháng).', scope: 'Phạm vi', file: 'Tệp',
    signature: 'Tên luật', token_name: 'Tên mã truy cập', password_changed: 'Đổi mật khẩu lúc', last_used: 'Dùng lần cuối', revoked: 'Thu hồi lúc',
    enforce: 'thực thi', approve_mode: 'cần phê duyệt', tk_source: 'nguồn tấn công', tk_destination: 'đích', tk_domain: 'tên miền', tk_host: 'máy (cách ly)',
  },
};
const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
const SEVERITIES = ['critical', 'high', 'medium', 'low'];
const SEV_COLORS = { critical: '#b3261e', high: '#e8590c', medium: '#c99700', low: '#4a7c59' };

const state = { lang: localStorage.getItem('gw.lang') || 'vi', me: null, csrf: null, rows: [], sel: 0, live: null, reloadTimer: null };

function t(k) {
  const d = T[state.lang] || T.en;
  return d[k] || T.en[k] || k;
}

// h('tag', {attr: v, on: {click: f}}, child, ...): children are nodes or text.
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const svgNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of kids) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return new Intl.DateTimeFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(d);
}
function fmtNum(n) { return n === null || n === undefined ? '' : new Intl.NumberFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB').format(n); }

function toast(msg) {
  const e = document.getElementById('toast');
  e.textContent = msg;
  e.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => e.classList.remove('show'), 3500);
}

class ApiError extends Error { constructor(status, code, message) { super(message); this.status = status; this.code = code; } }

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    if (r.status === 401 && path !== '/api/v1/login') { state.me = null; showLogin(); }
    throw new ApiError(r.status, e.code || 'http', e.message || r.statusText);
  }
  return data;
}

function sevBadge(sev) { return h('span', { class: `sev ${sev}`, 'data-severity': sev }, t(sev)); }
function statusBadge(st) { return h('span', { class: `status ${st}`, 'data-status': st }, t(st)); }

// ---------------------------------------------------------------- sign-in

function showLogin(message) {
  document.getElementById('bar').hidden = true;
  stopLive();
  const err = h('div', { class: 'error', id: 'login-error' }, message || '');
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { on: { submit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const me = await api('POST', '/api/v1/login', { name: name.value, password: pw.value });
      signedIn(me);
    } catch (e) {
      err.textContent = e.code === 'login_failed' ? t('wrong') : e.message;
    }
  } } },
  h('label', {}, t('name'), h('br'), name), h('label', {}, t('password'), h('br'), pw),
  h('button', { class: 'primary', type: 'submit', id: 'login-submit' }, t('signin')), err);
  render(h('div', { class: 'panel login' }, h('h1', {}, 'Gatewatch — ' + t('signin')), form));
  name.focus();
}

function signedIn(me) {
  state.me = me;
  state.csrf = me.csrf;
  const bar = document.getElementById('bar');
  bar.hidden = false;
  document.getElementById('who').textContent = `${me.display_name} (${me.role})`;
  document.getElementById('logout').textContent = t('signout');
  buildNav();
  startLive();
  if (!location.hash || location.hash === '#/' || location.hash === '#/login') location.hash = '#/incidents';
  route();
}

function buildNav() {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  const items = [['#/incidents', 'queue'], ['#/overview', 'overview'], ['#/blocks', 'blocks'], ['#/reports', 'reports'], ['#/suppressions', 'suppressions'], ['#/sensors', 'sensors']];
  if (state.me && state.me.role === 'admin') items.push(['#/admin', 'admin']);
  for (const [href, k] of items) nav.append(h('a', { href, 'data-nav': k }, t(k)));
  markNav();
}
function markNav() {
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('on', location.hash.startsWith(a.getAttribute('href')));
}

// ---------------------------------------------------------------- live updates

function startLive() {
  stopLive();
  const es = new EventSource('/api/v1/events');
  const dot = document.getElementById('live');
  es.onopen = () => dot.classList.add('on');
  es.onerror = () => dot.classList.remove('on');
  es.addEventListener('incidents', () => {
    // Reload the page in view, at most once a second.
    if (state.reloadTimer) return;
    state.reloadTimer = setTimeout(() => { state.reloadTimer = null; if (document.activeElement?.tagName !== 'TEXTAREA') route(true); }, 1000);
  });
  state.live = es;
}
function stopLive() { if (state.live) { state.live.close(); state.live = null; } }

// ---------------------------------------------------------------- routing

function render(...nodes) { document.getElementById('main').replaceChildren(...nodes); }

async function route(quiet) {
  markNav();
  if (!state.me) return;
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  try {
    let m;
    if ((m = path.match(/^\/incidents\/(\d+)$/))) await incidentPage(Number(m[1]), quiet);
    else if (path === '/overview') await overviewPage();
    else if (path === '/suppressions') await suppressionsPage();
    else if (path === '/blocks') await blocksPage();
    else if (path === '/reports') await reportsPage();
    else if (path === '/sensors') await sensorsPage();
    else if (path === '/admin') await adminPage();
    else await queuePage(params, quiet);
  } catch (e) {
    if (e.status !== 401) render(h('div', { class: 'panel error' }, e.message));
  }
}

// ---------------------------------------------------------------- queue

async function queuePage(params, quiet) {
  if (!params.has('status')) params.set('status', 'open');
  const [page, assets, views] = await Promise.all([
    api('GET', '/api/v1/incidents?' + params.toString()),
    cached('assets', () => api('GET', '/api/v1/assets')),
    api('GET', '/api/v1/views'),
  ]);
  state.rows = page.incidents;
  if (!quiet) state.sel = 0;
  state.sel = Math.min(state.sel, Math.max(0, state.rows.length - 1));
  const field = (name, node) => { node.name = name; node.id = 'f-' + name; if (params.get(name)) node.value = params.get(name); return h('label', {}, t(name === 'q' ? 'search' : name), node); };
  const opt = (v, label) => h('option', { value: v }, label);
  const statusSel = h('select', {}, opt('open', t('open')), opt('', t('all')), ...STATUSES.map((x) => opt(x, t(x))));
  statusSel.value = params.get('status');
  const form = h('form', { class: 'filters panel', id: 'filters', on: { submit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const el of form.elements) if (el.name && el.value) p.set(el.name, el.value);
    if (!p.has('status')) p.set('status', '');
    location.hash = '#/incidents?' + p.toString();
  } } },
  h('label', {}, t('status'), Object.assign(statusSel, { name: 'status', id: 'f-status' })),
  field('severity', h('select', {}, opt('', t('any')), ...SEVERITIES.map((x) => opt(x, t(x))))),
  field('agency', h('select', {}, opt('', t('any')), ...assets.agencies.map((a) => opt(a.id, a.name)))),
  field('asset', h('input', { size: 14, placeholder: '10.46.1.10' })),
  field('tactic', h('input', { size: 8, placeholder: 'TA0001' })),
  field('from', h('input', { type: 'date' })),
  field('to', h('input', { type: 'date' })),
  field('q', h('input', { size: 18 })),
  field('sort', h('select', {}, opt('last_seen', t('by_last_seen')), opt('score', t('by_score')))),
  h('button', { class: 'primary', type: 'submit' }, t('apply')),
  h('button', { type: 'button', on: { click: () => { location.hash = '#/incidents'; } } }, t('clear')),
  viewsControl(views, params));
  const head = h('tr', {}, ...['severity', 'score', 'title', 'agency', 'entity', 'first_seen', 'last_seen', 'alerts', 'status', 'assignee']
    .map((k) => h('th', { class: k === 'score' || k === 'alerts' ? 'num' : '' }, t(k))));
  const body = h('tbody', {}, ...state.rows.map((r, i) => h('tr', {
    class: 'row' + (i === state.sel ? ' sel' : ''), 'data-id': r.id, on: { click: () => { location.hash = `#/incidents/${r.id}`; } },
  },
  h('td', {}, sevBadge(r.severity)), h('td', { class: 'num' }, r.score), h('td', {}, h('a', { href: `#/incidents/${r.id}` }, `#${r.id} `), r.title),
  h('td', {}, r.agency_name || r.agency || ''), h('td', { class: 'mono' }, r.entity), h('td', {}, fmtTime(r.first_seen)),
  h('td', {}, fmtTime(r.last_seen)), h('td', { class: 'num' }, fmtNum(r.alert_count)), h('td', {}, statusBadge(r.status)), h('td', {}, r.assignee || ''))));
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  const go = (n) => { const p = new URLSearchParams(params); p.set('page', n); location.hash = '#/incidents?' + p.toString(); };
  const pager = h('div', { class: 'pager' },
    h('button', { disabled: page.page <= 1, on: { click: () => go(page.page - 1) } }, t('prev')),
    h('span', { id: 'page-info' }, `${t('page')} ${page.page} ${t('of')} ${pages}${page.total_capped ? '+' : ''} · ${fmtNum(page.total)}${page.total_capped ? '+' : ''} ${t('queue').toLowerCase()}`),
    h('button', { disabled: page.page >= pages, on: { click: () => go(page.page + 1) } }, t('next')));
  render(h('h1', {}, t('queue')), form,
    state.rows.length ? h('table', { id: 'queue' }, h('thead', {}, head), body) : h('p', { class: 'panel muted', id: 'queue-empty' }, t('none')),
    pager, h('p', { class: 'muted help' }, t('keys')));
}

function viewsControl(views, params) {
  const sel = h('select', { id: 'views', on: { change: () => { if (sel.value) location.hash = '#/incidents?' + sel.value; } } },
    h('option', { value: '' }, t('views')), ...views.map((v) => h('option', { value: v.query }, v.name)));
  const save = h('button', { type: 'button', on: { click: async () => {
    const name = prompt(t('view_name'));
    if (!name) return;
    await api('POST', '/api/v1/views', { name, query: params.toString() });
    toast(t('saved'));
    route(true);
  } } }, t('save_view'));
  return h('span', { class: 'actions' }, sel, save);
}

const cache = {};
async function cached(key, f) { if (!cache[key]) cache[key] = await f(); return cache[key]; }

// ---------------------------------------------------------------- incident

async function incidentPage(id, quiet) {
  const d = await api('GET', `/api/v1/incidents/${id}`);
  const i = d.incident;
  const canTriage = state.me.role !== 'viewer';
  const act = (to, label, cls) => h('button', { class: cls || '', 'data-action': to, disabled: !canTriage, on: { click: () => change(i, 'transition', { to }) } }, t(label));
  const buttons = [];
  if (i.status === 'new') buttons.push(act('acknowledged', 'acknowledge', 'primary'));
  if (i.status === 'new' || i.status === 'acknowledged') buttons.push(act('in_progress', 'start'));
  if (!['resolved', 'false_positive'].includes(i.status)) buttons.push(act('resolved', 'resolve'), act('false_positive', 'mark_false_positive', 'danger'));
  else buttons.push(act('in_progress', 'reopen'));
  buttons.push(h('button', { 'data-action': 'assign-me', disabled: !canTriage, on: { click: () => change(i, 'assign', { assignee: state.me.name }) } }, t('assign_me')));
  if (i.assignee) buttons.push(h('button', { disabled: !canTriage, on: { click: () => change(i, 'assign', { assignee: null }) } }, t('unassign')));
  const mergeInput = h('input', { type: 'number', min: 1, size: 6, id: 'merge-into' });
  buttons.push(h('span', {}, t('merge_into'), ' ', mergeInput, ' ',
    h('button', { disabled: !canTriage, on: { click: () => { if (mergeInput.value) change(i, 'merge', { into: Number(mergeInput.value) }, Number(mergeInput.value)); } } }, t('merge'))));

  const facts = h('dl', { class: 'facts' },
    ...fact('severity', sevBadge(i.severity)), ...fact('score', String(i.score)), ...fact('status', statusBadge(i.status)),
    ...fact('assignee', i.assignee || '—'), ...fact('entity', h('span', { class: 'mono' }, i.entity)),
    ...fact('agency', i.agency_name || i.agency || '—'), ...fact('system', i.system || '—'),
    ...fact('level', i.security_level ? String(i.security_level) : '—'), ...fact('criticality', i.criticality || '—'),
    ...fact('rsit', i.rsit), ...fact('stages', h('span', {}, ...i.tactics.map((x) => h('span', { class: 'chip' }, x)), ...i.techniques.map((x) => h('span', { class: 'chip' }, x)))),
    ...fact('succeeded', i.succeeded ? t('yes') : t('no')), ...fact('alerts', fmtNum(i.alert_count)),
    ...fact('first_seen', fmtTime(i.first_seen)), ...fact('last_seen', fmtTime(i.last_seen)),
    ...fact('acknowledged_at', fmtTime(i.acknowledged_at) || '—'), ...fact('resolved_at', fmtTime(i.resolved_at) || '—'));
  const noteText = h('textarea', { id: 'note-text', rows: 3, cols: 60, disabled: !canTriage });
  const noteForm = h('form', { id: 'note-form', on: { submit: async (ev) => {
    ev.preventDefault();
    if (!noteText.value.trim()) return;
    try { await api('POST', `/api/v1/incidents/${i.id}/notes`, { text: noteText.value }); noteText.value = ''; route(true); } catch (e) { toast(e.message); }
  } } }, noteText, h('br'), h('button', { type: 'submit', disabled: !canTriage, id: 'note-submit' }, t('add_note')));
  const ev = d.evidence;
  render(
    h('h1', { id: 'incident-title' }, `#${i.id} ${i.title}`),
    h('div', { class: 'actions', id: 'lifecycle' }, ...buttons),
    h('div', { class: 'grid' },
      h('div', { class: 'panel' }, h('h2', {}, t('summary')), facts),
      h('div', { class: 'panel' }, h('h2', {}, t('notes')), h('div', { id: 'notes' }, ...d.notes.map((n) => h('div', { class: 'note' }, h('div', { class: 'muted' }, `${n.author} · ${fmtTime(n.at)}`), n.text))), noteForm)),
    h('div', { class: 'panel' }, h('h2', {}, t('timeline')), h('ul', { class: 'timeline', id: 'timeline' }, ...d.timeline.map((e) => h('li', {}, h('span', { class: 'k' }, e.kind), `${fmtTime(e.at)} `, e.actor ? h('b', {}, e.actor + ' ') : '', e.text)))),
    table(t('alerts'), ['time', 'sid', 'title', 'source', 'destination', 'protocol', 'alerts'], d.alerts.map((a) => [fmtTime(a.timestamp), `${a.gid}:${a.sid}`, a.signature, `${a.src_ip}${a.src_port ? ':' + a.src_port : ''}`, `${a.dest_ip}${a.dest_port ? ':' + a.dest_port : ''}`, a.proto, fmtNum(a.count)]), 'alerts'),
    h('div', { class: 'panel', id: 'evidence' }, h('h2', {}, t('evidence')),
      table(t('flows'), ['time', 'source', 'destination', 'protocol', 'what'], ev.flows.map((r) => [fmtTime(r.timestamp), endpoint(r.src_ip, r.src_port), endpoint(r.dest_ip, r.dest_port), r.app_proto || r.proto, flowText(r)])),
      table('DNS', ['time', 'query', 'answer'], ev.dns.map((r) => [fmtTime(r.timestamp), dnsQuery(r.dns), dnsAnswer(r.dns)]), 'dns'),
      table('HTTP', ['time', 'host', 'url', 'status'], ev.http.map((r) => [fmtTime(r.timestamp), r.http?.hostname || '', `${r.http?.http_method || ''} ${r.http?.url || ''}`, r.http?.status ?? ''])),
      table('TLS', ['time', 'sni', 'what'], ev.tls.map((r) => [fmtTime(r.timestamp), r.tls?.sni || '', [r.tls?.version, r.tls?.subject, r.tls?.ja3?.hash].filter(Boolean).join(' · ')])),
      table(t('files'), ['time', 'filename', 'size', 'hash'], ev.files.map((r) => [fmtTime(r.timestamp), r.fileinfo?.filename || '', fmtNum(r.fileinfo?.size), ['md5', 'sha1', 'sha256'].map((k) => r.fileinfo?.[k] ? `${k}:${r.fileinfo[k]}` : '').filter(Boolean).join(' ')]))),
    h('div', { class: 'grid' },
      table(t('hosts'), ['host', 'role', 'kind', 'agency'], d.hosts.map((x) => [x.ip, x.role, x.zone, x.agency || ''])),
      table(t('rules'), ['sid', 'signature', 'alerts', 'last_seen'], d.rules.map((r) => [`${r.gid}:${r.sid}`, r.signature, fmtNum(r.alerts), fmtTime(r.last_seen)]), 'incident-rules')),
    h('div', { class: 'panel', id: 'response' }, h('h2', {}, t('response')), blockTable(d.blocks, false)),
    h('div', { class: 'panel' }, h('h2', {}, t('related')), d.related.length ? h('ul', { id: 'related' }, ...d.related.map((r) => h('li', {}, sevBadge(r.severity), ' ', h('a', { href: `#/incidents/${r.id}` }, `#${r.id} ${r.title}`), ' ', statusBadge(r.status)))) : h('p', { class: 'muted' }, '—')),
    table(t('audit'), ['time', 'who', 'what'], d.audit.map((a) => [fmtTime(a.at), a.actor, `${a.action} ${a.detail ? JSON.stringify(a.detail) : ''}`]), 'audit'));
  if (!quiet) window.scrollTo(0, 0);
}

function fact(k, v) { return [h('dt', {}, t(k)), h('dd', { 'data-fact': k }, v)]; }
function endpoint(ip, port) { return ip ? `${ip}${port ? ':' + port : ''}` : ''; }
function flowText(r) { const f = r.flow || {}; return [f.state, f.bytes_toserver !== undefined ? `${fmtNum(f.bytes_toserver)}↑ ${fmtNum(f.bytes_toclient)}↓ B` : ''].filter(Boolean).join(' · '); }
// DNS in Suricata's version 3 layout (`queries[]`, what the sensor writes) or version 2 (`rrname` at the top).
function dnsQuery(d) { if (!d) return ''; const q = Array.isArray(d.queries) ? d.queries : (d.rrname ? [d] : []); return q.map((x) => `${x.rrname || ''} ${x.rrtype || ''}`.trim()).join(', '); }
function dnsAnswer(d) { if (!d) return ''; const a = d.answers || (d.grouped ? Object.values(d.grouped).flat() : []); return (Array.isArray(a) ? a.map((x) => (typeof x === 'string' ? x : x.rdata)).filter(Boolean).join(', ') : '') || d.rcode || ''; }

function headRow(keys) { return h('thead', {}, h('tr', {}, ...keys.map((k) => h('th', {}, k ? t(k) : '')))); }

function table(title, cols, rows, id) {
  if (!rows.length) return h('div', { class: 'panel' }, h('h2', {}, title), h('p', { class: 'muted' }, '—'));
  return h('div', { class: 'panel' }, h('h2', {}, title), h('table', { id: id || null },
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', {}, t(c))))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((v) => h('td', {}, v === null || v === undefined ? '' : String(v))))))));
}

async function change(i, what, body, goTo) {
  try {
    await api('POST', `/api/v1/incidents/${i.id}/${what}`, { ...body, version: i.version });
    if (goTo) location.hash = `#/incidents/${goTo}`; else route(true);
  } catch (e) {
    if (e.code === 'conflict') { toast(t('changed_meanwhile')); route(true); } else toast(e.message);
  }
}

// ---------------------------------------------------------------- overview

async function overviewPage() {
  let [o, sensors] = await Promise.all([api('GET', '/api/v1/overview?days=30'), api('GET', '/api/v1/sensors')]);
  let note = null;
  // Nothing in the last 30 days: show the 30 days up to the newest activity, and say so.
  if (o.newest_activity && new Date(o.newest_activity) < new Date(o.since)) {
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(o.newest_activity));
    o = await api('GET', `/api/v1/overview?days=30&until=${day}`);
    note = h('p', { class: 'muted', id: 'overview-period' }, `${t('no_recent')} ${o.by_day[0].day} – ${o.until_day}`);
  }
  render(h('h1', {}, t('overview')), note,
    h('div', { class: 'panel' }, h('h2', {}, t('by_day')), stackedBars(o.by_day), legend()),
    h('div', { class: 'grid' },
      h('div', { class: 'panel' }, h('h2', {}, t('open_now')), barList(o.open_by_severity.map((c) => ({ ...c, label: t(c.key) })), 'open')),
      h('div', { class: 'panel' }, h('h2', {}, t('by_status')), barList(o.by_status.map((c) => ({ ...c, label: t(c.key) })), 'status')),
      h('div', { class: 'panel' }, h('h2', {}, t('top_signatures')), barList(o.top_signatures, 'signatures')),
      h('div', { class: 'panel' }, h('h2', {}, t('top_agencies')), barList(o.top_agencies, 'agencies'))),
    sensorTable(sensors));
}

function legend() { return h('div', { class: 'legend' }, ...SEVERITIES.map((k) => { const sw = h('i'); sw.style.background = SEV_COLORS[k]; return h('span', {}, sw, t(k)); })); }

function stackedBars(days) {
  const W = 900, H = 220, pad = 28;
  const max = Math.max(1, ...days.map((d) => d.critical + d.high + d.medium + d.low));
  const bw = (W - pad) / Math.max(1, days.length);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H + 24}`, width: '100%', role: 'img', id: 'chart-by-day', 'aria-label': t('by_day') });
  svg.append(s('line', { x1: pad, y1: H, x2: W, y2: H, stroke: '#999' }));
  svg.append(s('text', { x: 0, y: 12, 'font-size': 11, fill: '#555' }, fmtNum(max)));
  days.forEach((d, i) => {
    let y = H;
    for (const k of ['low', 'medium', 'high', 'critical']) {
      const hgt = (d[k] / max) * (H - 10);
      if (hgt > 0) {
        const r = s('rect', { x: pad + i * bw + 1, y: y - hgt, width: Math.max(1, bw - 2), height: hgt, fill: SEV_COLORS[k] });
        r.append(s('title', {}, `${d.day} ${t(k)}: ${d[k]}`));
        svg.append(r);
      }
      y -= hgt;
    }
    if (i % 5 === 0 || i === days.length - 1) svg.append(s('text', { x: pad + i * bw, y: H + 16, 'font-size': 10, fill: '#555' }, d.day.slice(5)));
  });
  return svg;
}

function barList(items, id) {
  const max = Math.max(1, ...items.map((x) => x.count));
  if (!items.length) return h('p', { class: 'muted' }, '—');
  return h('div', { class: 'bars', id: 'bars-' + id }, ...items.map((x) => {
    const b = h('span', { class: 'b' });
    b.style.width = `${Math.max(2, (x.count / max) * 45)}%`;
    return h('div', { class: 'bar' }, h('span', { class: 'l', title: x.label }, x.label), b, h('span', {}, fmtNum(x.count)));
  }));
}

function sensorTable(sensors) {
  return table(t('sensors'), ['sensor', 'status', 'last_heartbeat', 'packets', 'drops', 'rules_gen', 'last_alert', 'alerts'],
    sensors.map((x) => [x.name, x.up === null ? t('unknown') : x.up ? t('up') : t('down'), fmtTime(x.last_heartbeat), fmtNum(x.packets),
      x.kernel_drops === null && x.queue_drops === null ? '' : fmtNum((x.kernel_drops || 0) + (x.queue_drops || 0)), x.rules_generation === null ? '' : `#${x.rules_generation} · ${fmtNum(x.rules_loaded)} / −${fmtNum(x.rules_skipped ?? 0)}`, fmtTime(x.last_alert), fmtNum(x.alerts)]), 'sensors');
}

async function sensorsPage() { render(h('h1', {}, t('sensors')), sensorTable(await api('GET', '/api/v1/sensors'))); }

// ---------------------------------------------------------------- automated response

function blockState(st) { return h('span', { class: `block ${st}`, 'data-state': st }, t(st)); }

// Decisions with the buttons an analyst may press: approve or deny what waits, unblock
// what is in force. Each asks for a reason, kept in the audit log.
function blockTable(rows, withIncident) {
  if (!rows.length) return h('p', { class: 'muted' }, t('no_blocks'));
  const canTriage = state.me.role !== 'viewer';
  const ask = (b, what) => async () => {
    const reason = window.prompt(`${t(what)} ${b.target} — ${t('why')}`, '');
    if (reason === null) return;
    try { await api('POST', `/api/v1/blocks/${b.id}/${what === 'unblock' ? 'undo' : what}`, { reason }); route(true); } catch (e) { toast(e.message); }
  };
  const buttons = (b) => {
    const out = [];
    if (b.state === 'awaiting-approval' || b.state === 'rate-limited') {
      out.push(h('button', { class: 'primary', 'data-block-action': 'approve', disabled: !canTriage, on: { click: ask(b, 'approve') } }, t('approve')), ' ',
        h('button', { 'data-block-action': 'deny', disabled: !canTriage, on: { click: ask(b, 'deny') } }, t('deny')));
    }
    if (b.state === 'executed') out.push(h('button', { class: 'danger', 'data-block-action': 'unblock', disabled: !canTriage, on: { click: ask(b, 'unblock') } }, t('unblock')));
    return out;
  };
  const cols = ['state', 'target', 'action', 'policy', 'mode', 'expires', 'decided_by', 'reason', ''];
  if (withIncident) cols.splice(1, 0, 'incident');
  return h('table', { class: 'blocks' }, h('thead', {}, h('tr', {}, ...cols.map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, ...rows.map((b) => {
      const cells = [h('td', {}, blockState(b.state)), h('td', {}, h('span', { class: 'mono' }, b.target), h('div', { class: 'muted' }, t(`tk_${b.target_kind}`))),
        h('td', {}, `${b.action} (${b.action_kind})`), h('td', {}, b.policy), h('td', {}, t(b.mode === 'approve' ? 'approve_mode' : b.mode)),
        h('td', {}, fmtTime(b.expires_at)), h('td', {}, b.decided_by || ''), h('td', {}, b.reason, b.last_error ? h('div', { class: 'error' }, b.last_error) : ''),
        h('td', {}, ...buttons(b))];
      if (withIncident) cells.splice(1, 0, h('td', {}, b.incident_id ? h('a', { href: `#/incidents/${b.incident_id}` }, `#${b.incident_id}`) : ''));
      return h('tr', { 'data-block': String(b.id) }, ...cells);
    })));
}

async function blocksPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const sel = h('select', { name: 'state', id: 'block-state' }, h('option', { value: '' }, t('all')),
    ...['executed', 'awaiting-approval', 'rate-limited', 'dry-run', 'skipped-allowlist', 'failed', 'expired', 'undone', 'denied'].map((k) => h('option', { value: k }, t(k))));
  sel.value = params.get('state') || '';
  sel.addEventListener('change', () => { location.hash = sel.value ? `#/blocks?state=${encodeURIComponent(sel.value)}` : '#/blocks'; });
  const q = sel.value ? `?state=${encodeURIComponent(sel.value)}` : '';
  const rows = await api('GET', `/api/v1/blocks${q}`);
  render(h('h1', {}, t('blocks')), h('div', { class: 'filters panel' }, h('label', {}, t('state'), sel)), h('div', { id: 'blocks' }, blockTable(rows, true)));
}

// ---------------------------------------------------------------- monthly reports

async function reportsPage() {
  const [kept, assets] = await Promise.all([api('GET', '/api/v1/reports'), cached('assets', () => api('GET', '/api/v1/assets'))]);
  // Last month, in Vietnam time.
  const now = new Date(Date.now() + 7 * 3600e3);
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const f = {
    month: h('input', { type: 'month', id: 'report-month', value: `${last.getUTCFullYear()}-${String(last.getUTCMonth() + 1).padStart(2, '0')}` }),
    agency: h('select', { id: 'report-agency' }, h('option', { value: '' }, t('province_wide')), ...assets.agencies.map((a) => h('option', { value: a.id }, a.name))),
    lang: h('select', { id: 'report-lang' }, h('option', { value: 'vi' }, 'Tiếng Việt'), h('option', { value: 'en' }, 'English')),
    format: h('select', { id: 'report-format' }, ...['pdf', 'html', 'json'].map((x) => h('option', { value: x }, x.toUpperCase()))),
  };
  f.lang.value = state.lang;
  const link = h('a', { class: 'button primary', id: 'report-download', href: '#' }, t('download'));
  const update = () => {
    const q = new URLSearchParams({ month: f.month.value, lang: f.lang.value, format: f.format.value });
    if (f.agency.value) q.set('agency', f.agency.value);
    link.setAttribute('href', `/api/v1/reports/generate?${q}`);
  };
  for (const x of Object.values(f)) x.addEventListener('change', update);
  update();
  const rows = kept.map((r) => h('tr', {}, h('td', {}, r.month), h('td', {}, r.scope === 'province' ? t('province_wide') : r.scope), h('td', {}, r.lang), h('td', {}, r.format.toUpperCase()), h('td', { class: 'num' }, fmtNum(r.bytes)),
    h('td', {}, h('a', { href: `/api/v1/reports/files/${encodeURIComponent(r.file)}` }, r.file))));
  render(h('h1', {}, t('reports')),
    h('div', { class: 'filters panel', id: 'report-form' }, h('h2', {}, t('make_report')), h('label', {}, t('month'), f.month), h('label', {}, t('scope'), f.agency), h('label', {}, t('language'), f.lang), h('label', {}, t('format'), f.format), link),
    h('div', { class: 'panel' }, h('h2', {}, t('kept_reports')), kept.length ? h('table', { id: 'reports' }, h('thead', {}, h('tr', {}, ...['month', 'scope', 'language', 'format', 'size', 'file'].map((k) => h('th', {}, t(k))))), h('tbody', {}, ...rows)) : h('p', { class: 'muted' }, t('no_reports'))));
}

// ---------------------------------------------------------------- suppressions

async function suppressionsPage() {
  const list = await api('GET', '/api/v1/suppressions');
  const canTriage = state.me.role !== 'viewer';
  const f = { sid: h('input', { size: 9, name: 'sid' }), src: h('input', { size: 16, name: 'src' }), dest: h('input', { size: 16, name: 'dest' }), reason: h('input', { size: 30, name: 'reason', required: true }), days: h('input', { type: 'number', min: 1, size: 4, name: 'days' }) };
  const form = h('form', { class: 'filters panel', id: 'suppression-form', on: { submit: async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/api/v1/suppressions', { sid: f.sid.value ? Number(f.sid.value) : null, src: f.src.value || null, dest: f.dest.value || null, reason: f.reason.value, expires_days: f.days.value ? Number(f.days.value) : null });
      route();
    } catch (e) { toast(e.message); }
  } } }, h('label', {}, t('sid'), f.sid), h('label', {}, t('source'), f.src), h('label', {}, t('destination'), f.dest), h('label', {}, t('reason'), f.reason), h('label', {}, `${t('expires')} (${t('days')})`, f.days), h('button', { class: 'primary', type: 'submit', disabled: !canTriage }, t('add')));
  const rows = list.map((x) => h('tr', {}, h('td', {}, x.sid ? `${x.gid || 1}:${x.sid}` : ''), h('td', { class: 'mono' }, x.src || ''), h('td', { class: 'mono' }, x.dest || ''), h('td', {}, x.reason),
    h('td', {}, x.created_by), h('td', {}, fmtTime(x.expires)), h('td', { class: 'num' }, fmtNum(x.hits)),
    h('td', {}, x.removed ? t('removed') : h('button', { disabled: !canTriage, on: { click: async () => { await api('DELETE', `/api/v1/suppressions/${x.id}`); route(); } } }, t('remove')))));
  render(h('h1', {}, t('suppressions')), form, h('table', { id: 'suppressions' }, h('thead', {}, h('tr', {}, ...['sid', 'source', 'destination', 'reason', 'created_by', 'expires', 'hits', ''].map((k) => h('th', {}, k ? t(k) : '')))), h('tbody', {}, ...rows)));
}

// ---------------------------------------------------------------- accounts (admin)

async function adminPage() {
  const [users, tokens] = await Promise.all([api('GET', '/api/v1/users'), api('GET', '/api/v1/tokens')]);
  const roles = ['viewer', 'analyst', 'admin'];
  const nu = { name: h('input', { size: 12 }), display: h('input', { size: 20 }), role: h('select', {}, ...roles.map((r) => h('option', { value: r }, r))), pw: h('input', { type: 'password', size: 16, autocomplete: 'new-password' }) };
  const userForm = h('form', { class: 'filters panel', on: { submit: async (ev) => {
    ev.preventDefault();
    try { await api('POST', '/api/v1/users', { name: nu.name.value, display_name: nu.display.value, role: nu.role.value, password: nu.pw.value }); route(); } catch (e) { toast(e.message); }
  } } }, h('label', {}, t('name'), nu.name), h('label', {}, t('display_name'), nu.display), h('label', {}, t('role'), nu.role), h('label', {}, t('password'), nu.pw), h('button', { class: 'primary', type: 'submit' }, t('add')));
  const userRows = users.map((u) => h('tr', {}, h('td', {}, u.name), h('td', {}, u.display_name), h('td', {}, u.role), h('td', {}, u.disabled ? t('disabled') : ''), h('td', {}, fmtTime(u.password_changed)),
    h('td', {}, h('button', { on: { click: async () => { try { await api('POST', `/api/v1/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled }); route(); } catch (e) { toast(e.message); } } } }, u.disabled ? t('enable') : t('disable')))));
  const nt = { name: h('input', { size: 14 }), user: h('select', {}, ...users.map((u) => h('option', { value: u.name }, u.name))), role: h('select', {}, ...roles.map((r) => h('option', { value: r }, r))), days: h('input', { type: 'number', min: 1, size: 4 }) };
  const shown = h('div', { class: 'mono', id: 'new-token' });
  const tokenForm = h('form', { class: 'filters panel', on: { submit: async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/api/v1/tokens', { name: nt.name.value, user: nt.user.value, role: nt.role.value, expires_days: nt.days.value ? Number(nt.days.value) : null });
      shown.replaceChildren(t('token_once'), h('br'), h('code', {}, r.token));
    } catch (e) { toast(e.message); }
  } } }, h('label', {}, t('token_name'), nt.name), h('label', {}, t('user'), nt.user), h('label', {}, t('role'), nt.role), h('label', {}, `${t('expires')} (${t('days')})`, nt.days), h('button', { class: 'primary', type: 'submit' }, t('add')), shown);
  const tokenRows = tokens.map((x) => h('tr', {}, h('td', {}, x.name), h('td', {}, x.user), h('td', {}, x.role), h('td', {}, fmtTime(x.created)), h('td', {}, fmtTime(x.expires)), h('td', {}, fmtTime(x.last_used)),
    h('td', {}, x.revoked ? fmtTime(x.revoked) : h('button', { class: 'danger', on: { click: async () => { await api('DELETE', `/api/v1/tokens/${x.id}`); route(); } } }, t('revoke')))));
  render(h('h1', {}, t('admin')), h('h2', {}, t('users')), userForm, h('table', { id: 'users' }, headRow(['name', 'display_name', 'role', 'state', 'password_changed', '']), h('tbody', {}, ...userRows)),
    h('h2', {}, t('tokens')), tokenForm, h('table', { id: 'tokens' }, headRow(['token_name', 'user', 'role', 'created', 'expires', 'last_used', 'revoked']), h('tbody', {}, ...tokenRows)));
}

// ---------------------------------------------------------------- keys

let gPending = false;
document.addEventListener('keydown', (ev) => {
  if (!state.me || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = document.activeElement?.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') { if (ev.key === 'Escape') document.activeElement.blur(); return; }
  const inQueue = location.hash.startsWith('#/incidents') && !/^#\/incidents\/\d+/.test(location.hash);
  if (gPending) { gPending = false; if (ev.key === 'o') location.hash = '#/overview'; if (ev.key === 'i') location.hash = '#/incidents'; return; }
  const rows = document.querySelectorAll('#queue tbody tr');
  const select = (n) => { state.sel = Math.max(0, Math.min(rows.length - 1, n)); rows.forEach((r, i) => r.classList.toggle('sel', i === state.sel)); rows[state.sel]?.scrollIntoView({ block: 'nearest' }); };
  switch (ev.key) {
    case 'g': gPending = true; break;
    case 'j': if (inQueue) select(state.sel + 1); break;
    case 'k': if (inQueue) select(state.sel - 1); break;
    case 'Enter': if (inQueue && state.rows[state.sel]) location.hash = `#/incidents/${state.rows[state.sel].id}`; break;
    case 'a': {
      const m = location.hash.match(/^#\/incidents\/(\d+)/);
      const target = m ? null : state.rows[state.sel];
      if (m) document.querySelector('[data-action="acknowledged"]')?.click();
      else if (target && target.status === 'new') change(target, 'transition', { to: 'acknowledged' });
      break;
    }
    case '/': ev.preventDefault(); document.getElementById('f-q')?.focus(); break;
    case 'r': route(true); break;
    case '?': toast(t('keys')); break;
    default: return;
  }
});

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', () => route());
document.addEventListener('DOMContentLoaded', async () => {
  const lang = document.getElementById('lang');
  lang.value = state.lang;
  document.documentElement.lang = state.lang;
  lang.addEventListener('change', () => {
    state.lang = lang.value;
    localStorage.setItem('gw.lang', state.lang);
    document.documentElement.lang = state.lang;
    if (state.me) { document.getElementById('logout').textContent = t('signout'); buildNav(); route(true); } else showLogin();
  });
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* signed out already */ }
    state.me = null; state.csrf = null; showLogin();
  });
  try { signedIn(await api('GET', '/api/v1/session')); } catch (e) { showLogin(); }
});
