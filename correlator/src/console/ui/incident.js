// Gatewatch console: the incident page (evidence, observables, timeline, audit) and
// the words it shows in the console's language. Loaded before app.js, whose helpers
// (h, t, api, render, state) it calls.
'use strict';

// Values the store writes as words (RSIT classes, criticality, host roles and zones,
// flow states, timeline kinds), in each language.
const E = {
  en: {
    'rsit:abusive-content': 'Abusive content', 'rsit:malicious-code': 'Malicious code', 'rsit:information-gathering': 'Information gathering',
    'rsit:intrusion-attempts': 'Intrusion attempts', 'rsit:intrusions': 'Intrusions', 'rsit:availability': 'Availability',
    'rsit:information-content-security': 'Information content security', 'rsit:fraud': 'Fraud', 'rsit:vulnerable': 'Vulnerable', 'rsit:other': 'Other',
    'crit:low': 'low', 'crit:medium': 'medium', 'crit:high': 'high', 'crit:critical': 'critical',
    'role:entity': 'subject of the incident', 'role:target': 'target', 'role:source': 'source', 'role:peer': 'peer',
    'zone:asset': 'inventoried asset', 'zone:unknown_internal': 'internal, not inventoried', 'zone:external': 'external', 'zone:sensor': 'sensor',
    'flow:new': 'new', 'flow:established': 'established', 'flow:closed': 'closed', 'flow:bypassed': 'bypassed',
    'kind:alert': 'alert', 'kind:note': 'note', 'kind:audit': 'action',
    'tactic:TA0043': 'Reconnaissance', 'tactic:TA0042': 'Resource Development', 'tactic:TA0001': 'Initial Access', 'tactic:TA0002': 'Execution',
    'tactic:TA0003': 'Persistence', 'tactic:TA0004': 'Privilege Escalation', 'tactic:TA0005': 'Defense Evasion', 'tactic:TA0006': 'Credential Access',
    'tactic:TA0007': 'Discovery', 'tactic:TA0008': 'Lateral Movement', 'tactic:TA0009': 'Collection', 'tactic:TA0011': 'Command and Control',
    'tactic:TA0010': 'Exfiltration', 'tactic:TA0040': 'Impact',
  },
  vi: {
    'rsit:abusive-content': 'Nội dung lạm dụng', 'rsit:malicious-code': 'Mã độc', 'rsit:information-gathering': 'Thu thập thông tin',
    'rsit:intrusion-attempts': 'Cố gắng xâm nhập', 'rsit:intrusions': 'Xâm nhập', 'rsit:availability': 'Tính sẵn sàng',
    'rsit:information-content-security': 'An toàn nội dung thông tin', 'rsit:fraud': 'Gian lận', 'rsit:vulnerable': 'Điểm yếu, lỗ hổng', 'rsit:other': 'Khác',
    'crit:low': 'thấp', 'crit:medium': 'trung bình', 'crit:high': 'cao', 'crit:critical': 'đặc biệt quan trọng',
    'role:entity': 'đối tượng của sự cố', 'role:target': 'bị tấn công', 'role:source': 'nguồn', 'role:peer': 'máy liên lạc',
    'zone:asset': 'tài sản đã kiểm kê', 'zone:unknown_internal': 'nội bộ, chưa kiểm kê', 'zone:external': 'bên ngoài', 'zone:sensor': 'cảm biến',
    'flow:new': 'mới', 'flow:established': 'đã thiết lập', 'flow:closed': 'đã đóng', 'flow:bypassed': 'bỏ qua',
    'kind:alert': 'cảnh báo', 'kind:note': 'ghi chú', 'kind:audit': 'thao tác',
    'tactic:TA0043': 'Trinh sát', 'tactic:TA0042': 'Chuẩn bị nguồn lực', 'tactic:TA0001': 'Truy cập ban đầu', 'tactic:TA0002': 'Thực thi',
    'tactic:TA0003': 'Duy trì hiện diện', 'tactic:TA0004': 'Leo thang đặc quyền', 'tactic:TA0005': 'Né tránh phòng thủ', 'tactic:TA0006': 'Đánh cắp thông tin xác thực',
    'tactic:TA0007': 'Khám phá hệ thống', 'tactic:TA0008': 'Di chuyển ngang', 'tactic:TA0009': 'Thu thập dữ liệu', 'tactic:TA0011': 'Điều khiển và kiểm soát (C2)',
    'tactic:TA0010': 'Đánh cắp dữ liệu ra ngoài', 'tactic:TA0040': 'Gây tác động',
  },
};
function en(group, v) { if (v === null || v === undefined || v === '') return ''; const k = `${group}:${v}`; return (E[state.lang] || E.en)[k] || E.en[k] || String(v); }

// Identical alerts one after another are one line of the timeline, with their count
// and the time of the last.
function groupTimeline(entries) {
  const out = [];
  for (const e of entries) {
    const prev = out[out.length - 1];
    if (prev && e.kind === 'alert' && prev.kind === 'alert' && prev.text === e.text && prev.actor === e.actor) { prev.n += 1; prev.last = e.at; continue; }
    out.push({ ...e, n: 1, last: e.at });
  }
  return out;
}

// An incident's title in the console's language: the store writes it in English from
// parts (the leading rule's message, how many more rules, the entity's label).
function incidentTitle(i) {
  if (!i.signature || !i.title.startsWith(i.signature)) return i.title;
  const rest = i.title.slice(i.signature.length);
  const m = rest.match(/^(?: and (\d+) more rules?)? — ([\s\S]*)$/);
  if (!m) return i.title;
  const vi = state.lang === 'vi';
  const more = m[1] ? (vi ? ` và ${m[1]} luật khác` : ` and ${m[1]} more rule${m[1] === '1' ? '' : 's'}`) : '';
  let label = m[2];
  if (vi) {
    label = label.replace(/ \(external\)$/, ' (bên ngoài)').replace(/ \(internal, not in the inventory\)$/, ' (nội bộ, chưa kiểm kê)')
      .replace(/^host /, 'máy ').replace(/^sensor /, 'cảm biến ').replace(/^automated response /, 'phản ứng tự động ');
  }
  return `${i.signature}${more} — ${label}`;
}

// An audit record as a sentence in the console's language: who did what.
function auditSentence(actor, action, detail) {
  const d = detail || {};
  const vi = state.lang === 'vi';
  const step = { acknowledged: vi ? 'đã tiếp nhận sự cố' : 'acknowledged the incident', in_progress: vi ? 'đã bắt đầu xử lý sự cố' : 'started handling the incident',
    resolved: vi ? 'đã xử lý xong sự cố' : 'resolved the incident', false_positive: vi ? 'đã đánh dấu là cảnh báo sai' : 'marked the incident a false positive',
    new: vi ? 'đã đưa sự cố về trạng thái mới' : 'set the incident back to new' };
  let what;
  if (action === 'incident.create') what = vi ? `đã tạo sự cố (luật ${d.rule || ''}, điểm ${d.score ?? ''})` : `created the incident (rule ${d.rule || ''}, score ${d.score ?? ''})`;
  else if (action === 'incident.transition') what = step[d.to] || `${d.from} → ${d.to}`;
  else if (action === 'incident.reopen') what = vi ? 'đã mở lại sự cố' : 'reopened the incident';
  else if (action === 'incident.assign') what = d.to ? (vi ? `đã giao sự cố cho ${d.to}` : `assigned the incident to ${d.to}`) : (vi ? 'đã bỏ giao sự cố' : 'unassigned the incident');
  else if (action === 'incident.note') what = vi ? 'đã thêm ghi chú' : 'added a note';
  else if (action === 'incident.merge') what = vi ? `đã gộp sự cố #${d.from} vào #${d.into}` : `merged incident #${d.from} into #${d.into}`;
  else if (action === 'incident.succeeded') what = `${vi ? 'ghi nhận tấn công đã thành công' : 'found that the attack succeeded'}: ${successSentence(d.shown)}`;
  else if (action && action.startsWith('block.')) what = `${vi ? 'quyết định chặn' : 'block decision'} ${d.target || ''}: ${t(action.slice(6))}${d.reason ? ` — ${d.reason}` : ''}`;
  else what = `${action}${Object.keys(d).length ? ' ' + JSON.stringify(d) : ''}`;
  return h('span', {}, h('b', {}, actor || ''), ' ', what);
}

// ---------------------------------------------------------------- incident

async function incidentPage(id, quiet) {
  const [d, settings, assets] = await Promise.all([api('GET', `/api/v1/incidents/${id}`), cached('settings', () => api('GET', '/api/v1/settings')), cached('assets', () => api('GET', '/api/v1/assets'))]);
  const agencyName = (a) => (a ? (assets.agencies.find((x) => x.id === a)?.name || a) : '');
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

  // What showed that the attack worked, when a record of its flows did.
  const won = d.audit.find((a) => a.action === 'incident.succeeded' && a.detail?.shown);
  const facts = h('dl', { class: 'facts' },
    ...fact('severity', sevBadge(i.severity)), ...fact('score', String(i.score)), ...fact('status', statusBadge(i.status)),
    ...(nextDeadline(i, settings.deadlines) ? fact('due', h('span', {}, dueBadge(i, settings.deadlines), ' ', h('span', { class: 'muted' }, nextDeadline(i, settings.deadlines).label))) : []),
    ...fact('assignee', i.assignee || '—'), ...fact('entity', i.entity.startsWith('sensor:') ? h('span', { class: 'mono' }, i.entity) : pivot(i.entity)),
    ...fact('agency', i.agency_name || i.agency || '—'), ...fact('system', i.system || '—'),
    ...fact('level', i.security_level ? String(i.security_level) : '—'), ...fact('criticality', en('crit', i.criticality) || '—'),
    ...fact('rsit', en('rsit', i.rsit)), ...fact('stages', h('span', { id: 'stages' }, ...i.tactics.map((x) => h('span', { class: 'chip', 'data-tactic': x }, `${en('tactic', x)} (${x})`)),
      ...i.techniques.map((x) => h('span', { class: 'chip', 'data-technique': x }, `${x} ${d.technique_names[x] || ''}`.trim())))),
    ...fact('succeeded', h('span', { id: 'succeeded' }, i.succeeded ? t('yes') : t('no'), won ? ` — ${successSentence(won.detail.shown)}` : '')), ...fact('alerts', fmtNum(i.alert_count)),
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
    h('h1', { id: 'incident-title' }, `#${i.id} ${incidentTitle(i)}`),
    h('div', { class: 'actions', id: 'lifecycle' }, ...buttons),
    h('div', { class: 'grid' },
      h('div', { class: 'panel' }, h('h2', {}, t('summary')), facts),
      h('div', { class: 'panel' }, h('h2', {}, t('notes')), h('div', { id: 'notes' }, ...d.notes.map((n) => h('div', { class: 'note' }, h('div', { class: 'muted' }, `${n.author} · ${fmtTime(n.at)}`), n.text))), noteForm)),
    h('div', { class: 'panel' }, h('h2', {}, t('timeline')), h('ul', { class: 'timeline', id: 'timeline' }, ...groupTimeline(d.timeline).map((e) => h('li', { 'data-kind': e.kind }, h('span', { class: 'k' }, en('kind', e.kind)), `${fmtTime(e.at)} `, e.action ? auditSentence(e.actor, e.action, e.detail) : [e.actor ? h('b', {}, e.actor + ' ') : '', e.text, e.n > 1 ? h('span', { class: 'repeat' }, ` ×${e.n} ${t('until')} ${fmtTime(e.last)}`) : ''])))),
    alertsPanel(d.alerts),
    observablesPanel(d.observables),
    h('div', { class: 'panel', id: 'evidence' }, h('h2', {}, t('evidence')),
      table(t('flows'), ['time', 'source', 'destination', 'protocol', 'what'], ev.flows.map((r) => [fmtTime(r.timestamp), endpoint(r.src_ip, r.src_port), endpoint(r.dest_ip, r.dest_port), r.app_proto || r.proto, flowText(r)])),
      table('DNS', ['time', 'query', 'answer'], ev.dns.map((r) => [fmtTime(r.timestamp), dnsQuery(r.dns), dnsAnswer(r.dns)]), 'dns'),
      table('HTTP', ['time', 'host', 'url', 'status'], ev.http.map((r) => [fmtTime(r.timestamp), pivots([r.http?.hostname]), `${r.http?.http_method || ''} ${r.http?.url || ''}`, r.http?.status ?? '']), 'http'),
      table('TLS', ['time', 'sni', 'what'], ev.tls.map((r) => [fmtTime(r.timestamp), pivots([r.tls?.sni]), [r.tls?.version, r.tls?.subject, r.tls?.ja3?.hash].filter(Boolean).join(' · ')]), 'tls'),
      table('SSH', ['time', 'source', 'destination', 'client', 'server'], ev.ssh.map((r) => [fmtTime(r.timestamp), endpoint(r.src_ip, r.src_port), endpoint(r.dest_ip, r.dest_port), sshSide(r.ssh?.client), sshSide(r.ssh?.server)]), 'ssh'),
      table('SMTP', ['time', 'helo', 'mail_from', 'rcpt_to'], ev.smtp.map((r) => [fmtTime(r.timestamp), r.smtp?.helo || '', pivots([r.smtp?.mail_from]), pivots([].concat(r.smtp?.rcpt_to || []))]), 'smtp'),
      table(t('files'), ['time', 'filename', 'size', 'hash'], ev.files.map((r) => [fmtTime(r.timestamp), r.fileinfo?.filename || '', fmtNum(r.fileinfo?.size), pivots(['md5', 'sha1', 'sha256'].map((k) => r.fileinfo?.[k]))]), 'files')),
    h('div', { class: 'grid' },
      table(t('hosts'), ['host', 'role', 'kind', 'agency'], d.hosts.map((x) => [pivot(x.ip), en('role', x.role), en('zone', x.zone), agencyName(x.agency)])),
      table(t('rules'), ['sid', 'signature', 'alerts', 'last_seen'], d.rules.map((r) => [`${r.gid}:${r.sid}`, r.signature, fmtNum(r.alerts), fmtTime(r.last_seen)]), 'incident-rules')),
    h('div', { class: 'panel', id: 'response' }, h('h2', {}, t('response')), blockTable(d.blocks, false)),
    h('div', { class: 'panel' }, h('h2', {}, t('related')), d.related.length ? h('ul', { id: 'related' }, ...d.related.map((r) => h('li', {}, sevBadge(r.severity), ' ', h('a', { href: `#/incidents/${r.id}` }, `#${r.id} ${incidentTitle(r)}`), ' ', statusBadge(r.status)))) : h('p', { class: 'muted' }, '—')),
    table(t('audit'), ['time', 'what'], d.audit.map((a) => [fmtTime(a.at), auditSentence(a.actor, a.action, a.detail)]), 'audit'));
  if (!quiet) window.scrollTo(0, 0);
}

function fact(k, v) { return [h('dt', {}, t(k)), h('dd', { 'data-fact': k }, v)]; }
function endpoint(ip, port) { return ip ? h('span', { class: 'mono' }, pivot(ip), port ? `:${port}` : '') : ''; }
// A value an analyst pivots on: a link to every incident that shares it.
function pivot(v) { return h('a', { class: 'pivot mono', href: `#/incidents?status=&q=${encodeURIComponent(String(v).toLowerCase())}`, title: t('pivot') }, String(v)); }
function pivots(values) { const vs = values.filter(Boolean).map((v) => String(v).replace(/^<|>$/g, '')); return vs.length ? h('span', {}, ...vs.flatMap((v, i) => (i ? [' ', pivot(v)] : [pivot(v)]))) : ''; }
function sshSide(x) { return x ? [x.software_version, x.proto_version ? `SSH-${x.proto_version}` : ''].filter(Boolean).join(' · ') : ''; }
function observablesPanel(list) {
  const kinds = ['ip', 'domain', 'url', 'file', 'hash', 'email', 'user'];
  const rows = kinds.map((k) => [k, list.filter((o) => o.kind === k)]).filter(([, l]) => l.length);
  if (!rows.length) return '';
  return h('div', { class: 'panel', id: 'observables' }, h('h2', {}, t('observables')),
    h('dl', { class: 'facts' }, ...rows.flatMap(([k, l]) => [h('dt', {}, t('obs_' + k)), h('dd', { 'data-kind': k }, ...l.flatMap((o, i) => (i ? [' ', pivot(o.value)] : [pivot(o.value)])))])));
}
function flowText(r) { const f = r.flow || {}; return [en('flow', f.state), f.bytes_toserver !== undefined ? `${fmtNum(f.bytes_toserver)}↑ ${fmtNum(f.bytes_toclient)}↓ B` : ''].filter(Boolean).join(' · '); }
// DNS in Suricata's version 3 layout (`queries[]`, what the sensor writes) or version 2 (`rrname` at the top).
function dnsQuery(d) {
  if (!d) return '';
  const q = Array.isArray(d.queries) ? d.queries : (d.rrname ? [d] : []);
  return h('span', {}, ...q.flatMap((x, i) => [i ? ', ' : '', x.rrname ? pivot(x.rrname) : '', x.rrtype ? ` ${x.rrtype}` : '']));
}
function dnsAnswer(d) {
  if (!d) return '';
  const a = d.answers || (d.grouped ? Object.values(d.grouped).flat() : []);
  const data = Array.isArray(a) ? a.map((x) => (typeof x === 'string' ? x : x.rdata)).filter(Boolean) : [];
  return data.length ? pivots(data) : (d.rcode || '');
}

function headRow(keys) { return h('thead', {}, h('tr', {}, ...keys.map((k) => h('th', {}, k ? t(k) : '')))); }

// What a record of the incident's flows showed of an attack that worked.
function successSentence(x) {
  if (!x) return '';
  const vi = state.lang === 'vi';
  const name = x.name ? ` (${x.name})` : '';
  if (x.kind === 'executable') return vi ? `tệp thực thi ${x.name} (${fmtNum(x.number)} byte) đã được tải về ${x.host}` : `executable file ${x.name} (${fmtNum(x.number)} bytes) transferred to ${x.host}`;
  if (x.kind === 'c2-http') return vi ? `máy chủ điều khiển ${x.host}${name} đã phản hồi HTTP ${x.number}` : `command-and-control server ${x.host}${name} answered HTTP ${x.number}`;
  return vi ? `máy chủ điều khiển ${x.host}${name} đã hoàn tất bắt tay TLS` : `command-and-control server ${x.host}${name} completed a TLS handshake`;
}

// The alerts; a click on one shows the event the sensor sent, and its payload as hex
// and text when the sensor kept it.
function alertsPanel(alerts) {
  const cols = ['time', 'sid', 'title', 'source', 'destination', 'protocol', 'alerts'];
  if (!alerts.length) return table(t('alerts'), cols, [], 'alerts');
  const body = h('tbody');
  for (const a of alerts) {
    const cell = h('td', { colspan: cols.length });
    const detail = h('tr', { class: 'raw', hidden: true, 'data-raw-of': a.id }, cell);
    const row = h('tr', { class: 'row', 'data-alert': a.id, 'aria-expanded': 'false' },
      h('td', {}, h('span', { class: 'twisty' }, '▸ '), fmtTime(a.timestamp)), h('td', {}, `${a.gid}:${a.sid}`), h('td', {}, a.signature),
      h('td', {}, endpoint(a.src_ip, a.src_port)), h('td', {}, endpoint(a.dest_ip, a.dest_port)), h('td', {}, a.proto), h('td', { class: 'num' }, fmtNum(a.count)));
    row.addEventListener('click', async (ev) => {
      if (ev.target.closest('a')) return;
      detail.hidden = !detail.hidden;
      row.setAttribute('aria-expanded', String(!detail.hidden));
      row.querySelector('.twisty').textContent = detail.hidden ? '▸ ' : '▾ ';
      if (detail.hidden || cell.childNodes.length) return;
      try { cell.append(rawEvent(await api('GET', `/api/v1/alerts/${a.id}`))); } catch (e) { toast(e.message); }
    });
    body.append(row, detail);
  }
  return h('div', { class: 'panel' }, h('h2', {}, t('alerts')), h('table', { id: 'alerts' }, h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', {}, t(c))))), body));
}

function rawEvent(raw) {
  let bytes = null;
  try { if (typeof raw.payload === 'string') bytes = Uint8Array.from(atob(raw.payload), (c) => c.charCodeAt(0)); } catch (e) { bytes = null; }
  const payload = bytes ? h('pre', { class: 'hexdump', 'data-payload': 'hex' }, hexdump(bytes))
    : raw.payload_printable ? h('pre', { class: 'hexdump', 'data-payload': 'text' }, raw.payload_printable)
      : h('p', { class: 'muted', 'data-payload': 'none' }, t('no_payload'));
  return h('div', { class: 'rawevent' }, h('h3', {}, t('payload')), payload, h('h3', {}, t('raw_event')), h('pre', { class: 'json' }, JSON.stringify(raw, null, 2)));
}

// Offset, 16 bytes in hex, and the same bytes as text (dots for what does not print).
function hexdump(bytes) {
  const max = Math.min(bytes.length, 8192);
  const lines = [];
  for (let o = 0; o < max; o += 16) {
    const row = Array.from(bytes.slice(o, Math.min(o + 16, max)));
    const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47, ' ');
    const text = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${o.toString(16).padStart(6, '0')}  ${hex}  ${text}`);
  }
  if (bytes.length > max) lines.push(`… ${fmtNum(bytes.length - max)} bytes`);
  return lines.join('\n');
}

function table(title, cols, rows, id) {
  if (!rows.length) return h('div', { class: 'panel' }, h('h2', {}, title), h('p', { class: 'muted' }, '—'));
  return h('div', { class: 'panel' }, h('h2', {}, title), h('table', { id: id || null },
    h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', {}, t(c))))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((v) => h('td', {}, v === null || v === undefined ? '' : v instanceof Node ? v : String(v))))))));
}

async function change(i, what, body, goTo) {
  try {
    await api('POST', `/api/v1/incidents/${i.id}/${what}`, { ...body, version: i.version });
    if (goTo) location.hash = `#/incidents/${goTo}`; else route(true);
  } catch (e) {
    if (e.code === 'conflict') { toast(t('changed_meanwhile')); route(true); } else toast(e.message);
  }
}

