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
    by_priority: 'most urgent', by_last_seen: 'newest activity', by_score: 'highest score', by_first_seen: 'newest', due: 'Due', overdue: 'overdue', left: 'left', apply: 'Apply', clear: 'Clear',
    views: 'Saved views', save_view: 'Save view', view_name: 'Name of the view',
    page: 'Page', of: 'of', prev: 'Previous', next: 'Next', none: 'No incidents match.',
    acknowledge: 'Acknowledge', start: 'Start work', mark_false_positive: 'False positive', resolve: 'Resolve', reopen: 'Reopen',
    assign_me: 'Assign to me', assign: 'Assign', unassign: 'Unassign', add_note: 'Add note', note: 'Note',
    merge_into: 'Merge into incident #', merge: 'Merge',
    until: 'until', decided_at: 'Decided', search_hint: 'title, IP, domain, URL, file, hash, user', observables: 'Observables', pivot: 'Incidents that share it', obs_ip: 'Addresses', obs_domain: 'Domains', obs_url: 'URLs', obs_file: 'Files', obs_hash: 'Hashes', obs_email: 'Mail addresses', obs_user: 'Users', helo: 'HELO', mail_from: 'From', rcpt_to: 'To', client: 'Client', server: 'Server', summary: 'Summary', timeline: 'Timeline', evidence: 'Evidence', hosts: 'Hosts', rules: 'Rules', notes: 'Notes',
    related: 'Related incidents', audit: 'Audit log', flows: 'Flows', files: 'Files',
    payload: 'Payload', raw_event: 'The event as the sensor sent it (EVE JSON)', no_payload: 'The sensor did not keep the payload of this alert (Suricata keeps it with `payload: yes` in the EVE alert output).',
    system: 'System', level: 'Security level', criticality: 'Criticality', rsit: 'Class (RSIT)', stages: 'ATT&CK stages',
    succeeded: 'Attack succeeded', yes: 'yes', no: 'no', created: 'Created', acknowledged_at: 'Acknowledged', resolved_at: 'Resolved',
    new: 'new', acknowledged: 'acknowledged', in_progress: 'in progress', resolved: 'resolved', false_positive: 'false positive',
    critical: 'critical', high: 'high', medium: 'medium', low: 'low',
    by_day: 'Incidents by day and severity (30 days)', by_status: 'Incidents by status', top_signatures: 'Top signatures',
    top_agencies: 'Most attacked agencies', open_now: 'Open incidents', sensor: 'Sensor', up: 'up', down: 'down', unknown: 'unknown', read_files: 'read capture files',
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
    reports: 'Reports', month: 'Month', language: 'Language', format: 'Format', download: 'Download', kept_reports: 'Reports kept by the schedule', make_report: 'Make a report', no_reports: 'No report kept yet (the correlator writes last month\'s on the first day of each month).', scope: 'Scope', file: 'File', months_with_data: 'Months with incidents:', no_incidents_yet: 'No incident yet.', incidents_word: 'incidents',
    signature: 'Rule', token_name: 'Token name', password_changed: 'Password changed', last_used: 'Last used', revoked: 'Revoked',
    recommendations: 'Recommendations (printed in section 9 of the report)', written_by: 'Written by', recommendations_empty: 'None written: the report leaves lines to write on.', saved: 'Saved', save: 'Save',
    filter_port: 'Destination port', filter_rule: 'Rule', filter_system: 'System', filter_technique: 'ATT&CK technique', filter_overdue: 'Overdue',
    manual_mode: 'by hand', carry_out: 'Carry out', carry_out_hint: 'Block for real what this dry-run decided (the allowlist is checked again)',
    manual_block: 'Block by hand', block_now: 'Block', duration: 'For', until_lifted: 'until lifted', addresses_only: 'addresses only',
    blocked_by_hand: 'Blocking', no_block_actions: 'No block action is configured ([response.actions]): blocking by hand is not available.',
    enforce: 'enforce', approve_mode: 'approve', tk_source: 'source', tk_destination: 'destination', tk_domain: 'domain', tk_host: 'host (quarantine)', tk_address: 'address',
  },
  vi: {
    queue: 'Sự cố', overview: 'Tổng quan', suppressions: 'Loại trừ cảnh báo', sensors: 'Cảm biến', admin: 'Tài khoản',
    signin: 'Đăng nhập', name: 'Tên đăng nhập', password: 'Mật khẩu', signout: 'Đăng xuất', wrong: 'Sai tên đăng nhập hoặc mật khẩu',
    severity: 'Mức độ', score: 'Điểm', title: 'Sự cố', agency: 'Cơ quan', asset: 'Tài sản', entity: 'Đối tượng',
    first_seen: 'Thấy lần đầu', last_seen: 'Thấy lần cuối', status: 'Trạng thái', assignee: 'Người xử lý', alerts: 'Cảnh báo',
    any: 'tất cả', open: 'đang mở', all: 'tất cả', search: 'Tìm kiếm', from: 'Từ', to: 'Đến', tactic: 'Chiến thuật', sort: 'Sắp xếp',
    by_priority: 'khẩn cấp nhất', by_last_seen: 'hoạt động mới nhất', by_score: 'điểm cao nhất', by_first_seen: 'mới nhất', due: 'Thời hạn', overdue: 'quá hạn', left: 'còn', apply: 'Áp dụng', clear: 'Xoá lọc',
    views: 'Bộ lọc đã lưu', save_view: 'Lưu bộ lọc', view_name: 'Tên bộ lọc',
    page: 'Trang', of: '/', prev: 'Trước', next: 'Sau', none: 'Không có sự cố nào phù hợp.',
    acknowledge: 'Tiếp nhận', start: 'Bắt đầu xử lý', mark_false_positive: 'Cảnh báo sai', resolve: 'Đã xử lý xong', reopen: 'Mở lại',
    assign_me: 'Giao cho tôi', assign: 'Giao', unassign: 'Bỏ giao', add_note: 'Thêm ghi chú', note: 'Ghi chú',
    merge_into: 'Gộp vào sự cố số', merge: 'Gộp',
    until: 'đến', decided_at: 'Thời điểm quyết định', search_hint: 'tiêu đề, IP, tên miền, URL, tệp, mã băm, tài khoản', observables: 'Dấu hiệu nhận biết', pivot: 'Các sự cố có cùng dấu hiệu', obs_ip: 'Địa chỉ IP', obs_domain: 'Tên miền', obs_url: 'URL', obs_file: 'Tệp', obs_hash: 'Mã băm', obs_email: 'Địa chỉ thư', obs_user: 'Tài khoản', helo: 'HELO', mail_from: 'Người gửi', rcpt_to: 'Người nhận', client: 'Máy khách', server: 'Máy chủ', summary: 'Tóm tắt', timeline: 'Diễn biến', evidence: 'Bằng chứng', hosts: 'Máy liên quan', rules: 'Luật', notes: 'Ghi chú',
    related: 'Sự cố liên quan', audit: 'Nhật ký thao tác', flows: 'Luồng', files: 'Tệp',
    payload: 'Dữ liệu gói tin (payload)', raw_event: 'Sự kiện gốc do cảm biến gửi (EVE JSON)', no_payload: 'Cảm biến không lưu payload của cảnh báo này (Suricata lưu khi bật `payload: yes` ở đầu ra cảnh báo EVE).',
    system: 'Hệ thống', level: 'Cấp độ an toàn', criticality: 'Mức quan trọng', rsit: 'Phân loại (RSIT)', stages: 'Giai đoạn ATT&CK',
    succeeded: 'Tấn công thành công', yes: 'có', no: 'không', created: 'Tạo lúc', acknowledged_at: 'Tiếp nhận lúc', resolved_at: 'Xử lý xong lúc',
    new: 'mới', acknowledged: 'đã tiếp nhận', in_progress: 'đang xử lý', resolved: 'đã xử lý', false_positive: 'cảnh báo sai',
    critical: 'nghiêm trọng', high: 'cao', medium: 'trung bình', low: 'thấp',
    by_day: 'Sự cố theo ngày và mức độ (30 ngày)', by_status: 'Sự cố theo trạng thái', top_signatures: 'Luật phát hiện nhiều nhất',
    top_agencies: 'Cơ quan bị tấn công nhiều nhất', open_now: 'Sự cố đang mở', sensor: 'Cảm biến', up: 'hoạt động', down: 'mất kết nối', unknown: 'chưa rõ', read_files: 'đã đọc tệp ghi',
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
    reports: 'Báo cáo', month: 'Tháng', language: 'Ngôn ngữ', format: 'Định dạng', download: 'Tải về', kept_reports: 'Báo cáo đã lập theo lịch', make_report: 'Lập báo cáo', no_reports: 'Chưa có báo cáo nào được lưu (hệ thống lập báo cáo tháng trước vào ngày đầu mỗi tháng).', scope: 'Phạm vi', file: 'Tệp', months_with_data: 'Các tháng có sự cố:', no_incidents_yet: 'Chưa có sự cố nào.', incidents_word: 'sự cố',
    signature: 'Tên luật', token_name: 'Tên mã truy cập', password_changed: 'Đổi mật khẩu lúc', last_used: 'Dùng lần cuối', revoked: 'Thu hồi lúc',
    recommendations: 'Kiến nghị, đề xuất (in ở mục 9 của báo cáo)', written_by: 'Người viết', recommendations_empty: 'Chưa viết: báo cáo để trống các dòng để ghi tay.', saved: 'Đã lưu', save: 'Lưu',
    filter_port: 'Cổng đích', filter_rule: 'Luật', filter_system: 'Hệ thống', filter_technique: 'Kỹ thuật ATT&CK', filter_overdue: 'Quá hạn',
    manual_mode: 'thủ công', carry_out: 'Thực hiện chặn', carry_out_hint: 'Chặn thật theo quyết định chạy thử này (kiểm tra lại danh sách cho phép)',
    manual_block: 'Chặn thủ công', block_now: 'Chặn', duration: 'Thời hạn', until_lifted: 'đến khi bỏ chặn', addresses_only: 'chỉ địa chỉ IP',
    blocked_by_hand: 'Đang chặn', no_block_actions: 'Chưa cấu hình hành động chặn ([response.actions]): không thể chặn thủ công.',
    enforce: 'thực thi', approve_mode: 'cần phê duyệt', tk_source: 'nguồn tấn công', tk_destination: 'đích', tk_domain: 'tên miền', tk_host: 'máy (cách ly)', tk_address: 'địa chỉ',
  },
};
const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'false_positive'];
const SEVERITIES = ['critical', 'high', 'medium', 'low'];
const SEV_COLORS = { critical: '#b3261e', high: '#e8590c', medium: '#c99700', low: '#4a7c59' };

// Queue filters without a field of their own (set by the overview's links).
const EXTRA_FILTERS = ['port', 'rule', 'system', 'technique', 'overdue'];

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
function fmtPct(r) { return new Intl.NumberFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { style: 'percent', maximumFractionDigits: 2 }).format(r); }
function fmtNum(n) { return n === null || n === undefined ? '' : new Intl.NumberFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB').format(n); }

function toast(msg) {
  const e = document.getElementById('toast');
  e.textContent = msg;
  e.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => e.classList.remove('show'), 3500);
}

class ApiError extends Error { constructor(status, code, message) { super(message); this.status = status; this.code = code; } }

// The server's refusals in the page's language: the common ones by their wording
// (names and numbers kept); any other is shown as the server wrote it.
const ERRORS_VI = [
  [/^(\S+) is on allowlist (.+): it is never blocked$/, '$1 thuộc danh sách cho phép $2: không bao giờ bị chặn'],
  [/^(\S+) is on allowlist (.+): it cannot be approved$/, '$1 thuộc danh sách cho phép $2: không thể phê duyệt'],
  [/^(\S+) is already blocked by (\S+) \(decision #(\d+), (\S+)\)$/, '$1 đang bị chặn bởi $2 (quyết định #$3, $4)'],
  [/^no action `(.+)` \(configured: (.+)\)$/, 'không có hành động `$1` (đã cấu hình: $2)'],
  [/^`(.*)` is neither an address nor a domain name$/, '`$1` không phải địa chỉ IP hay tên miền'],
  [/^action `(.+)` \(nft\) holds addresses, not domain names$/, 'hành động `$1` (nft) chỉ chặn địa chỉ IP, không chặn tên miền'],
  [/^the duration (.*)$/, 'thời hạn không hợp lệ: $1'],
  [/^a reason \(at most 4096 bytes\) is required$/, 'cần ghi lý do (tối đa 4096 byte)'],
  [/^there is no incident #(\d+)$/, 'không có sự cố #$1'],
  [/^this needs the role (\w+)$/, 'thao tác này cần vai trò $1'],
  [/^block (\d+) is (\S+): it cannot be (\w+)$/, 'quyết định chặn #$1 đang ở trạng thái $2: không thể thực hiện'],
];
function localizeError(m) {
  if (state.lang !== 'vi') return m;
  // The store's refusals start with `refused: `.
  const [prefix, rest] = m.startsWith('refused: ') ? ['bị từ chối: ', m.slice(9)] : ['', m];
  for (const [re, vi] of ERRORS_VI) if (re.test(rest)) return prefix + rest.replace(re, vi);
  return m;
}

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
    throw new ApiError(r.status, e.code || 'http', localizeError(e.message || r.statusText));
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
    const reload = () => {
      // Never under the analyst's hands: while a field or a form of the page has the
      // focus (typing, or waiting for the answer to a submit), later.
      const f = document.activeElement;
      if (f && f.closest('#main') && (f.closest('form') || ['INPUT', 'TEXTAREA', 'SELECT'].includes(f.tagName))) { state.reloadTimer = setTimeout(reload, 2000); return; }
      state.reloadTimer = null;
      route(true);
    };
    state.reloadTimer = setTimeout(reload, 1000);
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
  if (path !== '/overview') document.body.classList.remove('kiosk');
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
  field('q', h('input', { size: 26, placeholder: t('search_hint') })),
  field('sort', h('select', {}, opt('priority', t('by_priority')), opt('last_seen', t('by_last_seen')), opt('score', t('by_score')), opt('first_seen', t('by_first_seen')))),
  h('button', { class: 'primary', type: 'submit' }, t('apply')),
  h('button', { type: 'button', on: { click: () => { location.hash = '#/incidents'; } } }, t('clear')),
  viewsControl(views, params));
  // Filters the overview's links set (and periods to the minute, which a date field
  // cannot hold): kept through the form, shown as chips that remove them.
  const exact = (k) => ['from', 'to'].includes(k) && !/^\d{4}-\d{2}-\d{2}$/.test(params.get(k));
  const extras = [...EXTRA_FILTERS, 'from', 'to'].filter((k) => params.get(k) && (EXTRA_FILTERS.includes(k) || exact(k)));
  for (const k of extras) form.append(h('input', { type: 'hidden', name: k, value: params.get(k) }));
  const extra = h('div', { class: 'chips', id: 'extra-filters' }, ...extras.map((k) => {
    const p = new URLSearchParams(params); p.delete(k); p.delete('page');
    const v = k === 'overdue' ? t('yes') : exact(k) ? fmtTime(params.get(k)) : params.get(k);
    return h('a', { class: 'chip', href: '#/incidents?' + p.toString(), 'data-filter': k, title: t('clear') }, `${t(EXTRA_FILTERS.includes(k) ? 'filter_' + k : k)}: ${v} ✕`);
  }));
  form.append(extra);
  const settings = await cached('settings', () => api('GET', '/api/v1/settings'));
  // Headers sort: a click orders by the column, a second click the other way round.
  const sortKey = { severity: 'priority', score: 'score', title: 'title', agency: 'agency', entity: 'entity', first_seen: 'first_seen', last_seen: 'last_seen', alerts: 'alerts', status: 'status', assignee: 'assignee', due: 'priority' };
  const current = params.get('sort') || 'priority';
  const reversed = params.get('dir') === 'reverse';
  const sortBy = (key) => { const p = new URLSearchParams(params); p.set('sort', key); if (key === current && !reversed) p.set('dir', 'reverse'); else p.delete('dir'); p.delete('page'); location.hash = '#/incidents?' + p.toString(); };
  const cols = ['severity', 'score', 'title', 'agency', 'entity', 'first_seen', 'last_seen', 'alerts', 'status', 'due', 'assignee'];
  const head = h('tr', {}, ...cols.map((k) => {
    const on = k !== 'due' && sortKey[k] === current;
    return h('th', { class: (k === 'score' || k === 'alerts' ? 'num ' : '') + 'sortable' + (on ? (reversed ? ' asc' : ' desc') : ''), 'data-sort': sortKey[k], 'aria-sort': on ? (reversed ? 'ascending' : 'descending') : null, on: { click: () => sortBy(sortKey[k]) } }, t(k));
  }));
  const body = h('tbody', {}, ...state.rows.map((r, i) => h('tr', {
    class: 'row' + (i === state.sel ? ' sel' : ''), 'data-id': r.id, on: { click: () => { location.hash = `#/incidents/${r.id}`; } },
  },
  h('td', {}, sevBadge(r.severity)), h('td', { class: 'num' }, r.score), h('td', {}, h('a', { href: `#/incidents/${r.id}` }, `#${r.id} `), incidentTitle(r)),
  h('td', {}, r.agency_name || r.agency || ''), h('td', { class: 'mono' }, r.entity), h('td', {}, fmtTime(r.first_seen)),
  h('td', {}, fmtTime(r.last_seen)), h('td', { class: 'num' }, fmtNum(r.alert_count)), h('td', {}, statusBadge(r.status)), h('td', {}, dueBadge(r, settings.deadlines)), h('td', {}, r.assignee || ''))));
  const tiles = h('div', { class: 'sevcounts', id: 'open-by-severity' }, h('span', { class: 'muted' }, t('open_now') + ':'),
    ...page.open_by_severity.map((c) => h('a', { class: `sevcount ${c.key}`, 'data-severity': c.key, href: `#/incidents?status=open&severity=${c.key}` }, h('b', {}, fmtNum(c.count)), ' ', t(c.key))));
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  const go = (n) => { const p = new URLSearchParams(params); p.set('page', n); location.hash = '#/incidents?' + p.toString(); };
  const pager = h('div', { class: 'pager' },
    h('button', { disabled: page.page <= 1, on: { click: () => go(page.page - 1) } }, t('prev')),
    h('span', { id: 'page-info' }, `${t('page')} ${page.page} ${t('of')} ${pages}${page.total_capped ? '+' : ''} · ${fmtNum(page.total)}${page.total_capped ? '+' : ''} ${t('queue').toLowerCase()}`),
    h('button', { disabled: page.page >= pages, on: { click: () => go(page.page + 1) } }, t('next')));
  render(h('h1', {}, t('queue')), tiles, form,
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

// The next handling deadline of an open incident (the report's deadlines, from its
// creation): time left, or how long overdue (red).
function nextDeadline(r, deadlines) {
  const step = r.status === 'new' ? 'acknowledge' : ['acknowledged', 'in_progress'].includes(r.status) ? 'resolve' : null;
  const d = step && deadlines.find((x) => x.milestone === step);
  if (!d) return null;
  const left = Date.parse(r.created_at) + d.within_secs * 1000 - Date.now();
  return { label: state.lang === 'vi' ? d.label : d.label_en, left };
}

function fmtSpan(ms) {
  const m = Math.floor(Math.abs(ms) / 60000);
  const [dd, hh, mm] = [Math.floor(m / 1440), Math.floor((m % 1440) / 60), m % 60];
  const u = state.lang === 'vi' ? ['ngày', 'giờ', 'phút'] : ['d', 'h', 'min'];
  const sep = state.lang === 'vi' ? ' ' : '';
  if (dd) return `${dd}${sep}${u[0]} ${hh}${sep}${u[1]}`;
  if (hh) return `${hh}${sep}${u[1]} ${mm}${sep}${u[2]}`;
  return `${mm}${sep}${u[2]}`;
}

function dueBadge(r, deadlines) {
  const d = nextDeadline(r, deadlines);
  if (!d) return '';
  const late = d.left < 0;
  return h('span', { class: 'due' + (late ? ' late' : d.left < 3600e3 ? ' soon' : ''), 'data-overdue': late ? 'yes' : 'no', title: d.label }, late ? `${t('overdue')} ${fmtSpan(d.left)}` : `${t('left')} ${fmtSpan(d.left)}`);
}

function sensorTable(sensors) {
  const status = (x) => x.up === true ? t('up') : x.up === false ? t('down') : x.reads_files ? t('read_files') : t('unknown');
  const drops = (x) => {
    if (x.kernel_drops === null && x.queue_drops === null) return x.reads_files && x.heartbeat ? '0' : '';
    const n = (x.kernel_drops || 0) + (x.queue_drops || 0);
    return x.drop_rate === null ? fmtNum(n) : `${fmtNum(n)} (${fmtPct(x.drop_rate)})`;
  };
  return table(t('sensors'), ['sensor', 'status', 'last_heartbeat', 'packets', 'drops', 'rules_gen', 'last_alert', 'alerts'],
    sensors.map((x) => [x.name, status(x), fmtTime(x.last_heartbeat), fmtNum(x.packets), drops(x),
      x.rules_generation === null ? '' : `#${x.rules_generation} · ${fmtNum(x.rules_loaded)} / −${fmtNum(x.rules_skipped ?? 0)}`, fmtTime(x.last_alert), fmtNum(x.alerts)]), 'sensors');
}

async function sensorsPage() { render(h('h1', {}, t('sensors')), sensorTable(await api('GET', '/api/v1/sensors'))); }

// ---------------------------------------------------------------- monthly reports

async function reportsPage() {
  const [kept, months, assets, settings] = await Promise.all([api('GET', '/api/v1/reports'), api('GET', '/api/v1/reports/months'), cached('assets', () => api('GET', '/api/v1/assets')), cached('settings', () => api('GET', '/api/v1/settings'))]);
  const province = state.lang === 'vi' ? settings.province : (settings.province_en || settings.province);
  // The newest month with incidents; last month (Vietnam time) when none has any.
  const now = new Date(Date.now() + 7 * 3600e3);
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const fallback = `${last.getUTCFullYear()}-${String(last.getUTCMonth() + 1).padStart(2, '0')}`;
  const f = {
    month: h('input', { type: 'month', id: 'report-month', value: months.length ? months[0].month : fallback }),
    agency: h('select', { id: 'report-agency' }, h('option', { value: '' }, province), ...assets.agencies.map((a) => h('option', { value: a.id }, a.name))),
    lang: h('select', { id: 'report-lang' }, h('option', { value: 'vi' }, 'Tiếng Việt'), h('option', { value: 'en' }, 'English')),
    format: h('select', { id: 'report-format' }, ...['pdf', 'html', 'json'].map((x) => h('option', { value: x }, x.toUpperCase()))),
  };
  f.lang.value = state.lang;
  const link = h('a', { class: 'button primary', id: 'report-download', href: '#' }, t('download'));
  const update = () => {
    const q = new URLSearchParams({ month: f.month.value, lang: f.lang.value, format: f.format.value });
    if (f.agency.value) q.set('agency', f.agency.value);
    link.setAttribute('href', `/api/v1/reports/generate?${q}`);
    for (const b of chips.querySelectorAll('button')) b.classList.toggle('on', b.dataset.month === f.month.value);
  };
  const chips = h('div', { class: 'chips', id: 'report-months' }, months.length ? h('span', { class: 'muted' }, t('months_with_data')) : h('span', { class: 'muted' }, t('no_incidents_yet')),
    ...months.map((m) => h('button', { type: 'button', 'data-month': m.month, title: `${fmtNum(m.incidents)} ${t('incidents_word')}`, on: { click: () => { f.month.value = m.month; update(); } } },
      `${fmtMonth(m.month)} (${fmtNum(m.incidents)})`)));
  const recs = recommendationsPanel(f);
  for (const x of Object.values(f)) x.addEventListener('change', update);
  for (const x of [f.month, f.agency]) x.addEventListener('change', recs.load);
  chips.addEventListener('click', recs.load);
  update();
  render(h('h1', {}, t('reports')),
    h('div', { class: 'filters panel', id: 'report-form' }, h('h2', {}, t('make_report')), h('label', {}, t('month'), f.month), h('label', {}, t('scope'), f.agency), h('label', {}, t('language'), f.lang), h('label', {}, t('format'), f.format), link, chips),
    recs.node, keptReports(kept, assets, province));
  recs.load();
}

// The recommendations (Kiến nghị, đề xuất) of the chosen month and scope: what the SOC
// lead writes before issuing; the report prints them, or lines to write on.
function recommendationsPanel(f) {
  const vi = h('textarea', { id: 'recommendations-vi', rows: 4, cols: 70, disabled: state.me.role === 'viewer' });
  const en = h('textarea', { id: 'recommendations-en', rows: 3, cols: 70, disabled: state.me.role === 'viewer' });
  const who = h('p', { class: 'muted', id: 'recommendations-who' });
  const query = () => new URLSearchParams({ month: f.month.value, agency: f.agency.value });
  const show = (r) => {
    vi.value = r?.text || ''; en.value = r?.text_en || '';
    who.textContent = r ? `${t('written_by')} ${r.updated_by}, ${fmtTime(r.updated_at)}` : t('recommendations_empty');
  };
  const load = async () => { try { show(await api('GET', `/api/v1/reports/recommendations?${query()}`)); } catch (e) { toast(e.message); } };
  const save = h('button', { type: 'button', class: 'primary', id: 'recommendations-save', disabled: state.me.role === 'viewer', on: { click: async () => {
    try { show(await api('PUT', `/api/v1/reports/recommendations?${query()}`, { text: vi.value, text_en: en.value })); toast(t('saved')); } catch (e) { toast(e.message); }
  } } }, t('save'));
  const node = h('div', { class: 'panel', id: 'recommendations' }, h('h2', {}, t('recommendations')),
    h('label', {}, 'Tiếng Việt', h('br'), vi), h('br'), h('label', {}, 'English', h('br'), en), who, save);
  return { node, load };
}

// Kept reports, one row per month and scope, a link per language and format.
function keptReports(kept, assets, province) {
  if (!kept.length) return h('div', { class: 'panel' }, h('h2', {}, t('kept_reports')), h('p', { class: 'muted' }, t('no_reports')));
  const agencyName = (id) => id === 'province' ? province : (assets.agencies.find((a) => a.id === id)?.name || id);
  const groups = new Map();
  for (const r of kept) {
    const key = `${r.month} ${r.scope}`;
    if (!groups.has(key)) groups.set(key, { month: r.month, scope: r.scope, files: [] });
    groups.get(key).files.push(r);
  }
  const order = ['pdf', 'html', 'json'];
  const links = (files, lang) => files.filter((r) => r.lang === lang).sort((a, b) => order.indexOf(a.format) - order.indexOf(b.format))
    .map((r) => h('a', { class: 'file', href: `/api/v1/reports/files/${encodeURIComponent(r.file)}`, title: `${r.file} · ${fmtBytes(r.bytes)}` }, `${r.format.toUpperCase()} ${fmtBytes(r.bytes)}`));
  const rows = [...groups.values()].sort((a, b) => b.month.localeCompare(a.month) || (a.scope === 'province' ? -1 : b.scope === 'province' ? 1 : agencyName(a.scope).localeCompare(agencyName(b.scope))))
    .map((g) => h('tr', { 'data-month': g.month, 'data-scope': g.scope }, h('td', {}, fmtMonth(g.month)), h('td', {}, agencyName(g.scope)), h('td', { class: 'files' }, links(g.files, 'vi')), h('td', { class: 'files' }, links(g.files, 'en'))));
  return h('div', { class: 'panel' }, h('h2', {}, t('kept_reports')), h('table', { id: 'reports' },
    h('thead', {}, h('tr', {}, h('th', {}, t('month')), h('th', {}, t('scope')), h('th', {}, 'Tiếng Việt'), h('th', {}, 'English'))), h('tbody', {}, ...rows)));
}

function fmtMonth(m) {
  const [y, mo] = m.split('-').map(Number);
  return new Intl.DateTimeFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(y, mo - 1, 1)));
}

function fmtBytes(n) {
  const units = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${new Intl.NumberFormat(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: i ? 1 : 0 }).format(n)} ${units[i]}`;
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
